// grant_type=refresh_token (RFC 6749 §6, RFC 9700 §4.14.2): the token is rotated on every use;
// presenting a rotated token revokes its whole family (grant). Scope may be narrowed, never
// widened; the new refresh token keeps the scope of the old one. OIDC Core §12.2: a new ID token
// when openid is in the resulting scope.
import { OAuthError } from "../errors";
import { findUserById } from "../accounts/store";
import type { UserRecord } from "../accounts/model";
import { issueIdToken } from "../oidc/id-token";
import { issueAccessToken } from "../tokens/access-token";
import { accessTokenTtl, issueRefreshToken, revokeFamily, useRefreshToken } from "../tokens/service";
import type { TokenContext, TokenResponseBody } from "./token-response";
import { formatScope, narrowScope, parseScope } from "./token-scope";

export async function refreshTokenGrant(ctx: TokenContext): Promise<TokenResponseBody> {
  const { deps, client, form } = ctx;
  const presented = form.get("refresh_token");
  if (!presented) throw new OAuthError("invalid_request", "refresh_token is required");
  // Failures after the rotation (scope, user) throw inside the transaction: the token stays usable.
  const result = await deps.sql.begin(async (tx) => {
    const used = await useRefreshToken(deps, tx, presented, client.client_id);
    if (used.outcome !== "rotated") return used;
    const { row, grant } = used;
    const scopes = narrowScope(form.get("scope"), parseScope(row.scope));
    const scope = formatScope(scopes);
    let user: UserRecord | undefined;
    if (row.user_id) {
      user = await findUserById(tx, row.user_id);
      if (!user || !user.is_active) throw new OAuthError("invalid_grant", "The user of this refresh token is no longer active");
    }
    const extra: Record<string, unknown> = {};
    if (grant.auth_time) extra.auth_time = Math.floor(grant.auth_time.getTime() / 1000);
    if (grant.session_id) extra.sid = grant.session_id;
    if (grant.acr) extra.acr = grant.acr;
    const sub = row.user_id ?? client.client_id;
    const at = await issueAccessToken(deps, { clientId: client.client_id, sub, userId: row.user_id, scope, grantId: grant.id, ttlSeconds: accessTokenTtl(deps, client), extra }, tx);
    const next = await issueRefreshToken(deps, tx, { grantId: grant.id, client, userId: row.user_id, scope: row.scope });
    const body: TokenResponseBody = { access_token: at.token, token_type: "Bearer", expires_in: at.expiresIn, scope, refresh_token: next.token };
    if (user && scopes.includes("openid")) {
      body.id_token = await issueIdToken(deps, {
        user,
        client,
        scope,
        authTime: grant.auth_time,
        sessionId: grant.session_id,
        acr: grant.acr,
        amr: grant.amr,
        claimsRequest: grant.claims as never,
        accessToken: at.token,
      });
    }
    return { outcome: "issued" as const, body };
  });
  if (result.outcome === "issued") return result.body;
  if (result.outcome === "reused") {
    await revokeFamily(deps, result.grantId, "refresh_token_reuse", { clientId: client.client_id, ip: ctx.ip });
    throw new OAuthError("invalid_grant", "The refresh token was already used; every token of this grant is revoked");
  }
  throw new OAuthError("invalid_grant", "The refresh token is invalid, expired or revoked");
}
