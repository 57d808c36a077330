// Tokens for a user's grant, the same whichever grant brought the user's approval (authorization
// code, RFC 6749 §4.1.3; device code, RFC 8628 §3.5): a grant row, an access token, a refresh token
// when the client may refresh (and, in an OIDC flow, offline_access was granted, OIDC Core §11), and
// an ID token when openid was granted (OIDC Core §3.1.3.3).
import type { ClientRecord } from "../clients/model";
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import type { UserRecord } from "../accounts/model";
import { issueIdToken } from "../oidc/id-token";
import { issueAccessToken } from "../tokens/access-token";
import { accessTokenTtl, createGrant, issueRefreshToken, refreshTokenTtl } from "../tokens/service";
import type { ResourceRecord } from "../resources/model";
import { audienceSettings, scopesForResources } from "./resource-indicators";
import { tokenType, type TokenResponseBody } from "./token-response";
import { formatScope, parseScope } from "./token-scope";

export interface UserGrantInput {
  client: ClientRecord;
  /** The user; its record is needed only when the ID token releases user claims (see issueIdToken). */
  user: UserRecord | { id: string };
  grantType: string;
  scope: string;
  sessionId: string | null;
  authTime: Date;
  /** The authorization code (hash) the grant came from: a replay of it revokes the grant. */
  codeHash?: string | null;
  nonce?: string | null;
  acr?: string | null;
  amr?: string[] | null;
  claims?: Record<string, unknown> | null;
  /** The resources the user approved (RFC 8707), kept on the grant: a refresh may narrow to them. */
  grantedResources?: string[];
  /** The resources this access token is for (its aud, scopes, lifetime and algorithm follow them). */
  resources?: ResourceRecord[];
  /** RFC 9449: the DPoP key of the token request; binds the access token, and a public client's
   *  refresh tokens (the grant keeps it, §5). */
  dpopJkt?: string;
}

/** Whether a grant of this scope gets a refresh token: the client may refresh and, in an OIDC
 *  flow, offline_access was granted (OIDC Core §11). */
export function grantsRefreshToken(client: Pick<ClientRecord, "grant_types">, scopes: string[]): boolean {
  return client.grant_types.includes("refresh_token") && (!scopes.includes("openid") || scopes.includes("offline_access"));
}

/** The DPoP key a grant binds its refresh tokens to: a public client's (RFC 9449 §5). */
export function grantDpopJkt(client: Pick<ClientRecord, "client_type">, dpopJkt: string | undefined): string | null {
  return dpopJkt && client.client_type !== "confidential" ? dpopJkt : null;
}

export async function issueUserGrantTokens(deps: Deps, tx: Tx, g: UserGrantInput): Promise<TokenResponseBody> {
  const { client, user } = g;
  const scopes = parseScope(g.scope);
  const withRefresh = grantsRefreshToken(client, scopes);
  const ttl = accessTokenTtl(deps, client);
  const resources = g.resources ?? [];
  const atScope = formatScope(await scopesForResources(tx, scopes, resources));
  // The grant lasts as long as its first refresh token: the same instant for both, so that the
  // grant row is not updated again right after (tokens/store.ts extendGrant).
  const expiresAt = new Date(Date.now() + (withRefresh ? refreshTokenTtl(deps, client) : ttl) * 1000);
  // The grant's id is chosen here, so that the grant and its first refresh token go out together.
  const grantId = crypto.randomUUID();
  const grantRow = createGrant(tx, {
    id: grantId,
    clientId: client.client_id,
    userId: user.id,
    grantType: g.grantType,
    scope: g.scope,
    sessionId: g.sessionId,
    authTime: g.authTime,
    codeHash: g.codeHash ?? null,
    nonce: g.nonce ?? null,
    acr: g.acr ?? null,
    amr: g.amr ?? null,
    claims: g.claims ?? null,
    resources: g.grantedResources ?? [],
    dpopJkt: grantDpopJkt(client, g.dpopJkt),
    expiresAt,
  });
  const refresh = withRefresh ? issueRefreshToken(deps, tx, { grantId, client, userId: user.id, scope: g.scope, grantExpiresAt: expiresAt }) : undefined;
  const [, refreshToken] = await Promise.all([grantRow, refresh]);
  return signUserGrantTokens(deps, g, { grantId, atScope, refreshToken: refreshToken?.token });
}

/**
 * The token response of a stored grant: its access token (signed; a token of a grant writes no
 * row), the refresh token already stored, and an ID token when openid was granted. No database.
 */
export async function signUserGrantTokens(deps: Deps, g: UserGrantInput, stored: { grantId: string; atScope: string; refreshToken?: string }): Promise<TokenResponseBody> {
  const { client, user } = g;
  const audience = audienceSettings(deps, client, g.resources ?? []);
  const extra: Record<string, unknown> = { auth_time: Math.floor(g.authTime.getTime() / 1000) };
  if (g.sessionId) extra.sid = g.sessionId;
  if (g.acr) extra.acr = g.acr;
  if (g.amr?.length) extra.amr = g.amr;
  const at = await issueAccessToken(deps, { clientId: client.client_id, sub: user.id, userId: user.id, scope: stored.atScope, grantId: stored.grantId, ttlSeconds: audience.ttlSeconds, aud: audience.aud, alg: audience.alg, extra, jkt: g.dpopJkt });
  const out: TokenResponseBody = { access_token: at.token, token_type: tokenType(g.dpopJkt), expires_in: at.expiresIn, scope: stored.atScope };
  if (stored.refreshToken) out.refresh_token = stored.refreshToken;
  if (parseScope(g.scope).includes("openid")) {
    out.id_token = await issueIdToken(deps, {
      user,
      client,
      scope: g.scope,
      nonce: g.nonce,
      authTime: g.authTime,
      sessionId: g.sessionId,
      acr: g.acr,
      amr: g.amr,
      claimsRequest: g.claims as never,
      accessToken: at.token,
    });
  }
  return out;
}
