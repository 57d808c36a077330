// The device authorization grant (RFC 8628) without HTTP: issuing a device code and its user code
// (§3.1-3.2), finding a code from what the user typed (rate-limited against guessing, §5.1), the
// user's answer (§3.3), and the polling state the token endpoint reads (§3.4-3.5).
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import type { ClientRecord } from "../clients/model";
import { enforceRateLimit } from "../http/rate-limit";
import { hashSecret, randomToken } from "../lib/crypto";
import { sourceKey } from "../lib/source-key";
import { listActiveScopes } from "../interaction/store";
import { resolveScope } from "../oauth/scope";
import { formatUserCode, generateUserCode, normaliseUserCode, SLOW_DOWN_SECONDS, USER_CODE_ATTEMPTS, VERIFICATION_PATH } from "./model";
import * as store from "./store";

export type { DeviceCodeRow, PolledDeviceCode } from "./store";

/** The device authorization response (RFC 8628 §3.2). */
export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

const RATE_WINDOW_SECONDS = 60;

/** HMAC of a device code, as stored (the tokens pepper, like authorization codes). */
export function hashDeviceCode(deps: Pick<Deps, "peppers">, code: string): string {
  return hashSecret(deps.peppers.tokens, `device_code:${code}`);
}

/** HMAC of a normalised user code. */
function hashUserCode(deps: Pick<Deps, "peppers">, code: string): string {
  return hashSecret(deps.peppers.tokens, `user_code:${code}`);
}

export function verificationUri(deps: Pick<Deps, "config">): string {
  return `${deps.config.issuer.replace(/\/+$/, "")}${VERIFICATION_PATH}`;
}

/**
 * A new device code for an authenticated client that may use the grant. The scope follows the
 * authorization endpoint's rule (oauth/scope.ts resolveScope): unknown or unusable scopes are
 * dropped, none left is invalid_scope, none asked for means the client's default scopes.
 */
export async function createDeviceAuthorization(deps: Deps, client: ClientRecord, requestedScope: string | undefined): Promise<DeviceAuthorization> {
  const scope = resolveScope(requestedScope, client.scopes, await listActiveScopes(deps.sql));
  if (!scope.ok) throw new OAuthError("invalid_scope", scope.description);
  const deviceCode = randomToken(32);
  for (let attempt = 0; attempt < USER_CODE_ATTEMPTS; attempt++) {
    const userCode = generateUserCode();
    const inserted = await store.insertDeviceCode(deps.sql, {
      deviceCodeHash: hashDeviceCode(deps, deviceCode),
      userCodeHash: hashUserCode(deps, userCode),
      clientId: client.client_id,
      scope: scope.scopes.join(" "),
      intervalSeconds: deps.config.devicePollInterval,
      ttlSeconds: deps.config.deviceCodeTtl,
    });
    if (!inserted) continue;
    const shown = formatUserCode(userCode);
    const uri = verificationUri(deps);
    return {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: uri,
      verification_uri_complete: `${uri}?user_code=${shown}`,
      expires_in: deps.config.deviceCodeTtl,
      interval: deps.config.devicePollInterval,
    };
  }
  throw new OAuthError("temporarily_unavailable", "No free user code could be drawn; try again");
}

/**
 * The pending code a typed user code names, or undefined. Every lookup counts against the per-source
 * and the global limit first (RFC 8628 §5.1: user codes are short, so guessing must be throttled);
 * over either, RateLimitError (429 with Retry-After).
 */
export async function findCodeForUser(deps: Deps, ip: string, typed: string | undefined): Promise<store.DeviceCodeRow | undefined> {
  await enforceRateLimit(deps, `device-user-code:ip:${sourceKey(ip)}`, deps.config.deviceUserCodeRateLimitPerMinute, RATE_WINDOW_SECONDS);
  await enforceRateLimit(deps, "device-user-code:all", deps.config.deviceUserCodeGlobalRateLimitPerMinute, RATE_WINDOW_SECONDS);
  const code = normaliseUserCode(typed);
  if (!code) return undefined;
  return store.findPendingByUserCode(deps.sql, hashUserCode(deps, code));
}

/** A pending code by its id (the approval form, after its CSRF token was checked). */
export function findPendingCode(deps: Deps, id: string): Promise<store.DeviceCodeRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return Promise.resolve(undefined);
  return store.findPendingById(deps.sql, id);
}

/** The user's answer; false when the code was answered already or expired meanwhile. */
export function decideDeviceCode(deps: Deps, input: { id: string; approve: boolean; userId: string; scope: string; authTime: Date; acr: string | null; amr: string[] }): Promise<boolean> {
  return store.decideDeviceCode(deps.sql, input);
}

/** One poll at the token endpoint: the code's state after this poll (slow_down counted). */
export function pollDeviceCode(deps: Deps, deviceCode: string, clientId: string): Promise<store.PolledDeviceCode | undefined> {
  return store.pollDeviceCode(deps.sql, hashDeviceCode(deps, deviceCode), clientId, SLOW_DOWN_SECONDS);
}

export { redeemDeviceCode } from "./store";
