// grant_type=authorization_code (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3): the code is used once,
// atomically (docs/contracts.md); it is bound to the client, the redirect URI and the PKCE
// challenge; a second use revokes every token issued from it (§4.1.2). OIDC Core §3.1.3.3 adds the
// ID token; offline_access decides the refresh token of an OIDC flow (§11).
import { OAuthError } from "../errors";
import { findUserById } from "../accounts/store";
import { issueIdToken } from "../oidc/id-token";
import { issueAccessToken } from "../tokens/access-token";
import {
  accessTokenTtl,
  consumeAuthorizationCode,
  createGrant,
  findAuthorizationCode,
  hashToken,
  issueRefreshToken,
  refreshTokenTtl,
  revokeCodeFamily,
} from "../tokens/service";
import { checkPkce } from "./pkce";
import type { TokenContext, TokenResponseBody } from "./token-response";
import { parseScope } from "./token-scope";

export async function authorizationCodeGrant(ctx: TokenContext): Promise<TokenResponseBody> {
  const { deps, client, form } = ctx;
  const code = form.get("code");
  if (!code) throw new OAuthError("invalid_request", "code is required");
  const codeHash = hashToken(deps, code);
  // Any failure below throws inside the transaction, so a code presented with a wrong client,
  // redirect URI or verifier is not spent; two concurrent uses serialise on the row.
  const body = await deps.sql.begin(async (tx) => {
    const row = await consumeAuthorizationCode(tx, codeHash);
    if (!row) return undefined;
    if (row.client_id !== client.client_id) throw new OAuthError("invalid_grant", "The authorization code was issued to another client");
    checkRedirectUri(form.get("redirect_uri"), row.redirect_uri);
    checkPkce({ challenge: row.code_challenge, method: row.code_challenge_method }, form.get("code_verifier"));
    const user = await findUserById(tx, row.user_id);
    if (!user || !user.is_active) throw new OAuthError("invalid_grant", "The user of this authorization code is no longer active");
    const scopes = parseScope(row.scope);
    const openid = scopes.includes("openid");
    const withRefresh = client.grant_types.includes("refresh_token") && (!openid || scopes.includes("offline_access"));
    const ttl = accessTokenTtl(deps, client);
    const grantId = await createGrant(tx, {
      clientId: client.client_id,
      userId: user.id,
      grantType: "authorization_code",
      scope: row.scope,
      sessionId: row.session_id,
      authTime: row.auth_time,
      codeHash,
      nonce: row.nonce,
      acr: row.acr,
      amr: row.amr,
      claims: row.claims,
      expiresAt: new Date(Date.now() + (withRefresh ? refreshTokenTtl(deps, client) : ttl) * 1000),
    });
    const extra: Record<string, unknown> = { auth_time: Math.floor(row.auth_time.getTime() / 1000) };
    if (row.session_id) extra.sid = row.session_id;
    if (row.acr) extra.acr = row.acr;
    if (row.amr?.length) extra.amr = row.amr;
    const at = await issueAccessToken(deps, { clientId: client.client_id, sub: user.id, userId: user.id, scope: row.scope, grantId, ttlSeconds: ttl, extra }, tx);
    const out: TokenResponseBody = { access_token: at.token, token_type: "Bearer", expires_in: at.expiresIn, scope: row.scope };
    if (withRefresh) out.refresh_token = (await issueRefreshToken(deps, tx, { grantId, client, userId: user.id, scope: row.scope })).token;
    if (openid) {
      out.id_token = await issueIdToken(deps, {
        user,
        client,
        scope: row.scope,
        nonce: row.nonce,
        authTime: row.auth_time,
        sessionId: row.session_id,
        acr: row.acr,
        amr: row.amr,
        claimsRequest: row.claims as never,
        accessToken: at.token,
      });
    }
    return out;
  });
  if (body) return body;
  const known = await findAuthorizationCode(deps.sql, codeHash);
  if (known?.consumed_at && known.client_id === client.client_id) {
    await revokeCodeFamily(deps, codeHash, { clientId: client.client_id, ip: ctx.ip });
    throw new OAuthError("invalid_grant", "The authorization code was already used; tokens issued from it are revoked");
  }
  throw new OAuthError("invalid_grant", "The authorization code is invalid or expired");
}

/**
 * The redirect_uri must be identical to the one of the authorization request (RFC 6749 §4.1.3:
 * REQUIRED when the authorization request included it, which ours always does, OIDC Core
 * §3.1.2.1). Missing is invalid_request, different is invalid_grant; either leaves the code unspent.
 */
function checkRedirectUri(sent: string | undefined, used: string): void {
  if (sent === undefined) throw new OAuthError("invalid_request", "redirect_uri is required: the authorization request had one");
  if (sent !== used) throw new OAuthError("invalid_grant", "redirect_uri does not match the authorization request");
}
