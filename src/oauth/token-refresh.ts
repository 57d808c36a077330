// grant_type=refresh_token (RFC 6749 §6, RFC 9700 §4.14.2): the token is rotated on every use;
// presenting a rotated token revokes its whole family (grant). Scope may be narrowed, never
// widened; the new refresh token keeps the scope of the old one. OIDC Core §12.2: a new ID token
// when openid is in the resulting scope.
import { OAuthError } from "../errors";
import { pipelinedTransaction, type Tx } from "../db/sql";
import { issueIdToken } from "../oidc/id-token";
import { issueAccessToken } from "../tokens/access-token";
import { revokeFamily, rotateRefreshTokenAlone, useRefreshToken, type RotatedRefreshToken } from "../tokens/service";
import type { ResourceRecord } from "../resources/model";
import { isFapi2 } from "./fapi2";
import { tokenType, type TokenContext, type TokenResponseBody } from "./token-response";
import { formatScope, narrowScope, parseScope } from "./token-scope";
import { audienceSettings, scopesForResources, selectResources } from "./resource-indicators";

export async function refreshTokenGrant(ctx: TokenContext): Promise<TokenResponseBody> {
  const { deps, client, form } = ctx;
  const presented = form.get("refresh_token");
  if (!presented) throw new OAuthError("invalid_request", "refresh_token is required");
  // FAPI 2.0 §5.3.2.1: no rotation for a FAPI client (confidential: its refresh token is bound to
  // its authentication), so that a retry after a lost response succeeds.
  const rotate = !(isFapi2(deps, client) && client.client_type === "confidential");
  // The usual request (the grant's whole scope, no resources) in one round trip: the rotation
  // statement checks the request deadline itself and commits on its own; the tokens are signed
  // after it, with nothing left that could fail but a missing signing key (the key service keeps
  // one for every algorithm). Anything it does not cover, or a token it did not rotate, takes the
  // transaction below, which says why.
  if (rotate && form.get("scope") === undefined && !form.all("resource").length) {
    const alone = await rotateRefreshTokenAlone(deps, presented, client, ctx.dpopJkt ?? null);
    if (alone) return newTokens(ctx, alone.row, parseScope(alone.row.scope), [], alone.refreshToken);
  }
  // Failures after the rotation (scope) throw inside the transaction: the token stays usable.
  // Two round trips (db/sql.ts pipelinedTransaction): BEGIN with the rotation (one statement), then COMMIT.
  const result = await pipelinedTransaction(deps.sql, async (tx) => {
    const used = await useRefreshToken(deps, tx, presented, client, { rotate });
    if (used.outcome !== "rotated") return used;
    const { row } = used;
    // RFC 9449 §5: a public client's refresh token is bound to the DPoP key it was issued to; a
    // refresh without a proof of that key fails and leaves the token usable (rolled back).
    if (row.dpop_jkt && row.dpop_jkt !== ctx.dpopJkt) throw new OAuthError("invalid_grant", "The refresh token is bound to a DPoP key: send a DPoP proof signed with that key");
    const scopes = narrowScope(form.get("scope"), parseScope(row.scope));
    // RFC 8707 §2.2: one or more of the grant's resources, never another; none named: all of them.
    const resources = await selectResources(deps, tx, client, form.all("resource"), { within: row.resources ?? [] });
    return { outcome: "issued" as const, body: await newTokens(ctx, row, scopes, resources, used.refreshToken, tx) };
  });
  if (result.outcome === "issued") return result.body;
  if (result.outcome === "reused") {
    await revokeFamily(deps, result.grantId, "refresh_token_reuse", { clientId: client.client_id, ip: ctx.ip });
    throw new OAuthError("invalid_grant", "The refresh token was already used; every token of this grant is revoked");
  }
  throw new OAuthError("invalid_grant", "The refresh token is invalid, expired or revoked");
}

/** The access token (and ID token, for openid) of a used refresh token, with its successor. */
async function newTokens(ctx: TokenContext, row: RotatedRefreshToken, scopes: string[], resources: ResourceRecord[], refreshToken: string | undefined, tx?: Tx): Promise<TokenResponseBody> {
  const { deps, client } = ctx;
  const scope = formatScope(await scopesForResources(tx ?? deps.sql, scopes, resources));
  const audience = audienceSettings(deps, client, resources);
  const extra: Record<string, unknown> = {};
  if (row.auth_time) extra.auth_time = Math.floor(row.auth_time.getTime() / 1000);
  if (row.session_id) extra.sid = row.session_id;
  if (row.acr) extra.acr = row.acr;
  if (row.amr?.length) extra.amr = row.amr;
  const sub = row.user_id ?? client.client_id;
  // A token of a grant writes no row (tokens/access-token.ts): signing it needs no round trip.
  const at = await issueAccessToken(deps, { clientId: client.client_id, sub, userId: row.user_id, scope, grantId: row.grant_id, ttlSeconds: audience.ttlSeconds, aud: audience.aud, alg: audience.alg, extra, jkt: ctx.dpopJkt }, tx);
  const body: TokenResponseBody = { access_token: at.token, token_type: tokenType(ctx.dpopJkt), expires_in: at.expiresIn, scope, ...(refreshToken ? { refresh_token: refreshToken } : {}) };
  if (row.user_id && scopes.includes("openid")) {
    // The rotation checked that the user exists and is active; its record was read with it only
    // when the grant carries a claims request (the ID token's user claims, OIDC Core §5.5).
    if (row.claims && !row.user) throw new OAuthError("invalid_grant", "The user of this refresh token no longer exists");
    body.id_token = await issueIdToken(deps, {
      user: row.user ?? { id: row.user_id },
      client,
      scope,
      authTime: row.auth_time,
      sessionId: row.session_id,
      acr: row.acr,
      amr: row.amr,
      claimsRequest: row.claims as never,
      accessToken: at.token,
    });
  }
  return body;
}
