// grant_type=client_credentials (RFC 6749 §4.4): confidential clients only; an access token for
// the client itself, no refresh token (§4.4.3) and no ID token.
import { OAuthError } from "../errors";
import { issueAccessToken } from "../tokens/access-token";
import { tokenType, type TokenContext, type TokenResponseBody } from "./token-response";
import { formatScope, narrowScope } from "./token-scope";
import { audienceSettings, resourceScopes, scopesForResources, selectResources } from "./resource-indicators";

/** Scopes that only make sense with a user. */
const USER_SCOPES = ["openid", "offline_access"];

export async function clientCredentialsGrant(ctx: TokenContext): Promise<TokenResponseBody> {
  const { deps, client } = ctx;
  if (client.client_type !== "confidential") throw new OAuthError("unauthorized_client", "client_credentials is only for confidential clients");
  // RFC 8707: the named resources (or the client's default one); their scopes join the client's.
  const resources = await selectResources(deps, deps.sql, client, ctx.form.all("resource"));
  const allowed = [...new Set([...client.scopes.filter((s) => !USER_SCOPES.includes(s)), ...resourceScopes(resources)])];
  const scope = formatScope(await scopesForResources(deps.sql, narrowScope(ctx.form.get("scope"), allowed, "registered for this client"), resources));
  const audience = audienceSettings(deps, client, resources);
  const at = await issueAccessToken(deps, { clientId: client.client_id, sub: client.client_id, scope, ttlSeconds: audience.ttlSeconds, aud: audience.aud, alg: audience.alg, jkt: ctx.dpopJkt });
  return { access_token: at.token, token_type: tokenType(ctx.dpopJkt), expires_in: at.expiresIn, scope };
}
