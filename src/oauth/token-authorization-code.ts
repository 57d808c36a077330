// grant_type=authorization_code (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3): the code is used once,
// atomically (docs/contracts.md); it is bound to the client, the redirect URI and the PKCE
// challenge; a second use revokes every token issued from it (§4.1.2). OIDC Core §3.1.3.3 adds the
// ID token; offline_access decides the refresh token of an OIDC flow (§11).
import { OAuthError } from "../errors";
import { pipelinedTransaction, selfCheckingStatement, statementCommitBound } from "../db/sql";
import { consumeAuthorizationCode, findAuthorizationCode, findUserOfAuthorizationCode, hashToken, redeemAuthorizationCode, revokeCodeFamily } from "../tokens/service";
import { checkPkce, isWellFormedVerifier, s256Challenge } from "./pkce";
import { grantDpopJkt, grantsRefreshToken, issueUserGrantTokens, signUserGrantTokens } from "./token-issue";
import type { TokenContext, TokenResponseBody } from "./token-response";
import { selectResources } from "./resource-indicators";
import { formatScope, parseScope } from "./token-scope";

export async function authorizationCodeGrant(ctx: TokenContext): Promise<TokenResponseBody> {
  const { deps, client, form } = ctx;
  const code = form.get("code");
  if (!code) throw new OAuthError("invalid_request", "code is required");
  const codeHash = hashToken(deps, code);
  const redeemed = await redeemInOneStatement(ctx, codeHash);
  if (redeemed) return redeemed;
  // The step-by-step path: a request the statement does not cover (resources), or one that fails
  // a check (it says which), or a reused code.
  // Any failure below throws inside the transaction, so a code presented with a wrong client,
  // redirect URI or verifier is not spent; two concurrent uses serialise on the row.
  const body = await deps.sql.begin(async (tx) => {
    // The code and its user in one round trip (the SELECT runs after the UPDATE, in order).
    const [row, user] = await Promise.all([consumeAuthorizationCode(tx, codeHash), findUserOfAuthorizationCode(tx, codeHash)]);
    if (!row) return undefined;
    if (row.client_id !== client.client_id) throw new OAuthError("invalid_grant", "The authorization code was issued to another client");
    checkRedirectUri(form.get("redirect_uri"), row.redirect_uri);
    // RFC 9449 §10: a code bound to a key (dpop_jkt) is redeemed only with a proof of that key.
    if (row.dpop_jkt && row.dpop_jkt !== ctx.dpopJkt) throw new OAuthError("invalid_grant", "The authorization code is bound to a DPoP key: send a DPoP proof signed with that key");
    checkPkce({ challenge: row.code_challenge, method: row.code_challenge_method }, form.get("code_verifier"));
    if (!user || !user.is_active) throw new OAuthError("invalid_grant", "The user of this authorization code is no longer active");
    // RFC 8707 §2.2: the token may be for some of the resources of the authorization request, never others.
    const resources = await selectResources(deps, tx, client, form.all("resource"), { within: row.resources ?? [] });
    return issueUserGrantTokens(deps, tx, {
      client,
      user,
      grantType: "authorization_code",
      scope: row.scope,
      sessionId: row.session_id,
      authTime: row.auth_time,
      codeHash,
      nonce: row.nonce,
      acr: row.acr,
      amr: row.amr,
      claims: row.claims,
      grantedResources: row.resources ?? [],
      resources,
      dpopJkt: ctx.dpopJkt,
    });
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
 * The usual exchange (no resource indicators) in one statement that checks the code against the
 * request, consumes it and stores the grant and its refresh token (tokens/store.ts
 * redeemAuthorizationCode). It checks the request deadline itself and commits on its own, in one
 * round trip (db/sql.ts statementCommitBound); the tokens are signed after it, with nothing left
 * that could fail but a missing signing key (the key service keeps one for every algorithm).
 * Without a fresh reading of the database's clock it runs in a pipelined transaction (two round
 * trips), the tokens signed before COMMIT. Nothing is answered unless it committed. Undefined when
 * the request or the code does not fit: nothing was written, and the step-by-step path below decides.
 */
async function redeemInOneStatement(ctx: TokenContext, codeHash: string): Promise<TokenResponseBody | undefined> {
  const { deps, client, form } = ctx;
  const redirectUri = form.get("redirect_uri");
  const verifier = form.get("code_verifier");
  // Form values are text already (oauth/form.ts refuses NUL and lone surrogates).
  if (redirectUri === undefined || verifier === undefined || !isWellFormedVerifier(verifier) || form.all("resource").length) return undefined;
  const input = { codeHash, client, redirectUri, dpopJkt: ctx.dpopJkt ?? null, challenge: s256Challenge(verifier), grantDpopJkt: grantDpopJkt(client, ctx.dpopJkt) };
  const tokensOf = async (r: Awaited<ReturnType<typeof redeemAuthorizationCode>>) => {
    if (!r) return undefined;
    const { code } = r;
    const scopes = parseScope(code.scope);
    // The statement applied the refresh-token rule in SQL; a disagreement would be a bug (a server error).
    if (Boolean(r.refreshToken) !== grantsRefreshToken(client, scopes)) throw new Error("redeemAuthorizationCode and grantsRefreshToken disagree on the refresh token");
    if (code.claims && !code.user) throw new OAuthError("invalid_grant", "The user of this authorization code is no longer active");
    return signUserGrantTokens(deps, {
      client,
      user: code.user ?? { id: code.user_id },
      grantType: "authorization_code",
      scope: code.scope,
      sessionId: code.session_id,
      authTime: code.auth_time,
      codeHash,
      nonce: code.nonce,
      acr: code.acr,
      amr: code.amr,
      claims: code.claims,
      grantedResources: [],
      resources: [],
      dpopJkt: ctx.dpopJkt,
    }, { grantId: r.grantId, atScope: formatScope(scopes), refreshToken: r.refreshToken });
  };
  const commitBy = statementCommitBound(deps.sql);
  if (commitBy === undefined) return pipelinedTransaction(deps.sql, async (tx) => tokensOf(await redeemAuthorizationCode(deps, tx, { ...input, commitBy: null })));
  return tokensOf(await selfCheckingStatement(() => redeemAuthorizationCode(deps, deps.sql, { ...input, commitBy })));
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
