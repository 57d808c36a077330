// grant_type=urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4-3.5): the device polls
// with its device code. Until the user answers: authorization_pending, or slow_down when it polled
// sooner than its interval (which then grows by 5 s, kept per code in the database, so it holds
// on every node); then access_denied, or tokens exactly once (one conditional UPDATE redeems the
// code inside the transaction that issues them); after expires_in: expired_token.
import { findUserById } from "../accounts/store";
import { pollDeviceCode, redeemDeviceCode } from "../device/service";
import { DEVICE_CODE_GRANT } from "../device/model";
import { OAuthError } from "../errors";
import { selectResources } from "./resource-indicators";
import { issueUserGrantTokens } from "./token-issue";
import type { TokenContext, TokenResponseBody } from "./token-response";

/** The error responses of §3.5 are token endpoint errors: HTTP 400 (RFC 6749 §5.2). */
const fail = (code: string, description: string) => new OAuthError(code, description, { status: 400 });

export async function deviceCodeGrant(ctx: TokenContext): Promise<TokenResponseBody> {
  const { deps, client, form } = ctx;
  const deviceCode = form.get("device_code");
  if (!deviceCode) throw new OAuthError("invalid_request", "device_code is required");
  if (deviceCode.length > 256) throw fail("invalid_grant", "The device code is invalid");
  // A code of another client is unknown to this one (and its polls do not touch it).
  const code = await pollDeviceCode(deps, deviceCode, client.client_id);
  if (!code) throw fail("invalid_grant", "The device code is invalid");
  if (code.status === "redeemed") throw fail("invalid_grant", "The device code was already used");
  if (code.expired) throw fail("expired_token", "The device code has expired; start the sign-in again");
  if (code.status === "denied") throw fail("access_denied", "The user denied the request");
  if (code.status === "pending") {
    if (code.too_fast) throw fail("slow_down", `Polling too fast: wait at least ${code.interval_seconds} seconds between requests`);
    throw fail("authorization_pending", "The user has not yet answered the request");
  }
  const body = await deps.sql.begin(async (tx) => {
    const row = await redeemDeviceCode(tx, code.id);
    // Another poll redeemed it first (or it expired meanwhile).
    if (!row) return undefined;
    const user = row.user_id ? await findUserById(tx, row.user_id) : undefined;
    if (!user || !user.is_active) throw fail("invalid_grant", "The user who approved this device code is no longer active");
    // No resource indicator travels with a device authorization request here: the client's default
    // resource, if it has one, is the audience (RFC 8707; as at the token endpoint without `resource`).
    const resources = await selectResources(deps, tx, client, []);
    return issueUserGrantTokens(deps, tx, {
      client,
      user,
      grantedResources: resources.map((r) => r.identifier),
      resources,
      grantType: DEVICE_CODE_GRANT,
      scope: row.scope,
      // The device is not part of the browser session that approved it (no sid): ending that
      // session does not sign the device out; revoking the grant or the user's sessions does.
      sessionId: null,
      authTime: row.auth_time ?? row.decided_at ?? new Date(),
      acr: row.acr,
      amr: row.amr,
      dpopJkt: ctx.dpopJkt,
    });
  });
  if (!body) throw fail("invalid_grant", "The device code was already used");
  return body;
}
