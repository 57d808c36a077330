// POST /oauth/revoke (RFC 7009): the client revokes one of its own tokens. Unknown, invalid,
// expired and other clients' tokens answer 200 too (§2.2) and change nothing. Revoking a refresh
// token revokes its whole family (grant) with its access tokens (§2.1).
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { requestInfo } from "../http/request-context";
import { verifyAccessTokenSignature } from "../tokens/access-token";
import { findRefreshToken, hashToken, recordRevokedAccessToken, revokeAccessToken, revokeFamily } from "../tokens/service";
import { authenticateClient } from "./client-auth";
import { readForm } from "./form";

export async function handleRevocation(deps: Deps, request: Request): Promise<Response> {
  const form = await readForm(request);
  const { client } = await authenticateClient(deps, request, form, { endpointUrl: `${deps.config.issuer}/oauth/revoke`, allowPublic: true });
  const token = form.get("token");
  if (!token) throw new OAuthError("invalid_request", "token is required");
  const jwtLike = token.split(".").length === 3;
  const hint = form.get("token_type_hint");
  const done = jwtLike && hint !== "refresh_token" ? await revokeAccess(deps, token, client.client_id) : false;
  if (!done) {
    const row = await findRefreshToken(deps.sql, hashToken(deps, token));
    if (row && row.client_id === client.client_id) {
      await revokeFamily(deps, row.grant_id, "revoked_by_client", { clientId: client.client_id, ip: requestInfo(request).ip });
    } else if (jwtLike && hint === "refresh_token") {
      await revokeAccess(deps, token, client.client_id);
    }
  }
  return new Response(null, { status: 200, headers: { "Cache-Control": "no-store", Pragma: "no-cache" } });
}

async function revokeAccess(deps: Deps, token: string, clientId: string): Promise<boolean> {
  let claims;
  try {
    claims = await verifyAccessTokenSignature(deps, token);
  } catch {
    return false;
  }
  if (claims.client_id !== clientId) return true;
  const changed = await revokeAccessToken(deps.sql, claims.jti, clientId);
  // A client token and a token of a grant are not recorded at issuance: their revocation is.
  if (!changed && (claims.sub === claims.client_id || typeof claims.gid === "string")) {
    const gid = typeof claims.gid === "string" ? claims.gid : null;
    await recordRevokedAccessToken(deps.sql, { jti: claims.jti, clientId, scope: claims.scope, expiresAt: new Date(claims.exp * 1000), grantId: gid, userId: gid ? claims.sub : null });
  }
  return true;
}
