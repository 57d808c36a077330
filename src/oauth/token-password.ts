// grant_type=password, ONLY for the built-in first-party admin CLI client (docs/contracts.md).
// OAuth 2.1 removed it for everyone else, so it is never advertised and a third-party client gets
// unsupported_grant_type. Throttled per source (rate limit) and per account (lockout).
import { OAuthError } from "../errors";
import { AuthenticationError, authenticateUser } from "../accounts/authenticate";
import { enforceRateLimit } from "../http/rate-limit";
import { sourceKey } from "../lib/source-key";
import { issueAccessToken } from "../tokens/access-token";
import { accessTokenTtl, createGrant, issueRefreshToken, refreshTokenTtl } from "../tokens/service";
import type { TokenContext, TokenResponseBody } from "./token-response";
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
      amr: ["pwd"],
      expiresAt: new Date(now.getTime() + (withRefresh ? refreshTokenTtl(deps, client) : ttl) * 1000),
    });
    const at = await issueAccessToken(deps, { clientId: client.client_id, sub: user.id, userId: user.id, scope, grantId, ttlSeconds: ttl, extra: { auth_time: Math.floor(now.getTime() / 1000) } }, tx);
    const body: TokenResponseBody = { access_token: at.token, token_type: "Bearer", expires_in: at.expiresIn, scope };
    if (withRefresh) body.refresh_token = (await issueRefreshToken(deps, tx, { grantId, client, userId: user.id, scope })).token;
    return body;
  });
}
