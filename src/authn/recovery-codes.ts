// Recovery codes (NIST SP 800-63B §5.1.2 look-up secrets): ten single-use codes of 50 random bits,
// shown once, stored only as HMAC-SHA-256 with the secrets pepper (like client secrets and session
// cookies), bound to their user. They stand in for a lost second factor (amr `otp`, model.ts).
import { randomBytes } from "node:crypto";
import type { Deps } from "../deps";
import { hashSecret } from "../lib/crypto";
import * as store from "./store";

export const RECOVERY_CODE_COUNT = 10;
/** Crockford base32 without I, L, O, U: nothing to confuse when typed from paper. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

function normalise(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "").replaceAll("O", "0").replace(/[IL]/g, "1");
}

function hashCode(deps: Deps, userId: string, code: string): string {
  return hashSecret(deps.peppers.secrets, `recovery:${userId}:${normalise(code)}`);
}

function newCode(): string {
  const bytes = randomBytes(10);
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 31];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

/** Replaces the user's codes with ten new ones; returns them (shown once, never stored). */
export async function generateRecoveryCodes(deps: Deps, userId: string, sql = deps.sql): Promise<string[]> {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
  await store.replaceRecoveryCodes(sql, userId, codes.map((c) => hashCode(deps, userId, c)));
  return codes;
}

/** Uses one code: true for the one caller that used it (single use). The caller throttles. */
export async function useRecoveryCode(deps: Deps, userId: string, code: string): Promise<boolean> {
  const n = normalise(code);
  if (!/^[0-9A-Z]{10}$/.test(n)) return false;
  return store.useRecoveryCode(deps.sql, userId, hashCode(deps, userId, n));
}
