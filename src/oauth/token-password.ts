// grant_type=password, ONLY for the built-in first-party admin CLI client (docs/contracts.md).
// OAuth 2.1 removed it for everyone else, so it is never advertised and a third-party client gets
// unsupported_grant_type. Throttled per source (rate limit) and per account (lockout).
// A second factor (src/authn/): when the MFA policy asks for one, the one-time code comes as the
// `otp` parameter (a TOTP code or a recovery code); without it the answer is the extension error
// `mfa_required` (RFC 6749 §8.5), or `mfa_enrollment_required` for a user who has none to give.
import { OAuthError } from "../errors";
import { AuthenticationError, authenticateUser } from "../accounts/authenticate";
import { enforceRateLimit } from "../http/rate-limit";
import { sourceKey } from "../lib/source-key";
import { issueAccessToken } from "../tokens/access-token";
import { accessTokenTtl, createGrant, issueRefreshToken, refreshTokenTtl } from "../tokens/service";
import { acrOfAmr, combineAmr, type Method } from "../authn/model";
import { checkCode, nextFactor } from "../authn/service";
import { tokenType, type TokenContext, type TokenResponseBody } from "./token-response";
import { formatScope, narrowScope } from "./token-scope";

/** Password-grant attempts per source address and minute, on top of the login lockout. */
export const PASSWORD_GRANT_PER_MINUTE = 30;

export async function passwordGrant(ctx: TokenContext): Promise<TokenResponseBody> {
  const { deps, client, form } = ctx;
  if (!client.is_first_party) throw new OAuthError("unsupported_grant_type", "The grant type is not supported");
  const username = form.get("username");
  const password = form.get("password");
  if (!username || password === undefined) throw new OAuthError("invalid_request", "username and password are required");
  let scopes = narrowScope(form.get("scope"), client.scopes, "registered for this client");
  await enforceRateLimit(deps, `password-grant:${sourceKey(ctx.ip)}`, PASSWORD_GRANT_PER_MINUTE, 60);
  let user;
  try {
    user = await authenticateUser(deps, { login: username, password, ip: ctx.ip, loopback: ctx.loopback });
  } catch (err) {
    if (err instanceof AuthenticationError) throw new OAuthError("invalid_grant", err.message);
    throw err;
  }
  const methods: Method[] = [{ kind: "password" }];
  const need = await nextFactor(deps, { user, clientPolicy: client.mfa, amr: ["pwd"] });
  if (need.kind === "enrol") {
    throw new OAuthError("mfa_enrollment_required", `Two-step verification is required for this account: set it up at ${deps.config.issuer}/account, then sign in again`);
  }
  if (need.kind === "factor" || need.kind === "unmet") {
    const otp = form.get("otp");
    const codes = need.enrolment.totp || need.enrolment.recoveryCodes > 0;
    if (!codes) throw new OAuthError("mfa_required", `This account's second factor is a passkey or security key, which this grant cannot use: sign in with a browser at ${deps.config.issuer}`);
    if (!otp) throw new OAuthError("mfa_required", "A one-time code is required: send the code of your authenticator app (or a recovery code) as otp");
    let method;
    try {
      const kind = /^\s*\d{6}\s*$/.test(otp) ? "totp" : "recovery";
      method = await checkCode(deps, { userId: user.id, isAdmin: user.is_admin, ip: ctx.ip, loopback: ctx.loopback }, kind, otp.slice(0, 64));
    } catch (err) {
      if (err instanceof AuthenticationError) throw new OAuthError("invalid_grant", err.message);
      throw err;
    }
    if (!method) throw new OAuthError("invalid_grant", "The one-time code is wrong or was already used");
    methods.push(method);
  }
  const amr = combineAmr([], methods);
  const acr = acrOfAmr(amr);
  // Admin scopes are only for administrators; everyone else gets the rest.
  if (!user.is_admin) scopes = scopes.filter((s) => !s.startsWith("admin:"));
  const scope = formatScope(scopes);
  const withRefresh = client.grant_types.includes("refresh_token");
  const ttl = accessTokenTtl(deps, client);
  return deps.sql.begin(async (tx) => {
    const now = new Date();
    const grantId = await createGrant(tx, {
      clientId: client.client_id,
      userId: user.id,
      grantType: "password",
      scope,
      authTime: now,
      amr,
      acr,
      dpopJkt: client.client_type !== "confidential" ? (ctx.dpopJkt ?? null) : null,
      expiresAt: new Date(now.getTime() + (withRefresh ? refreshTokenTtl(deps, client) : ttl) * 1000),
    });
    const at = await issueAccessToken(deps, { clientId: client.client_id, sub: user.id, userId: user.id, scope, grantId, ttlSeconds: ttl, extra: { auth_time: Math.floor(now.getTime() / 1000), acr, amr }, jkt: ctx.dpopJkt }, tx);
    const body: TokenResponseBody = { access_token: at.token, token_type: tokenType(ctx.dpopJkt), expires_in: at.expiresIn, scope };
    if (withRefresh) body.refresh_token = (await issueRefreshToken(deps, tx, { grantId, client, userId: user.id, scope })).token;
    return body;
  });
}
