// Client secrets: 256 random bits shown once; stored as HMAC-SHA-256 with the server pepper
// (a fast keyed hash is right for high-entropy secrets; see DEVELOPERS.md / issue 3).
import type { Deps } from "../deps";
import { hashSecret, randomToken, safeEqual } from "../lib/crypto";
import type { ClientRecord } from "./model";

export function generateClientSecret(): string {
  return `cs_${randomToken(32)}`;
}

export function hashClientSecret(deps: Pick<Deps, "peppers">, secret: string): string {
  return hashSecret(deps.peppers.secrets, secret);
}

/** Constant-time check against the current secret, and the previous one during its grace period. */
export function verifyClientSecret(deps: Pick<Deps, "peppers">, client: ClientRecord, presented: string): boolean {
  const h = hashClientSecret(deps, presented);
  const current = client.secret_hash ? safeEqual(h, client.secret_hash) : false;
  const previous =
    client.previous_secret_hash && client.previous_secret_expires_at && client.previous_secret_expires_at.getTime() > Date.now()
      ? safeEqual(h, client.previous_secret_hash)
      : false;
  return current || previous;
}
