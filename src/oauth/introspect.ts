// POST /oauth/introspect (RFC 7662): authenticated (confidential) clients only. active:false for
// unknown, expired, revoked and foreign tokens (§4); a token is foreign unless it was issued to the
// caller, or the caller is the resource server of an active API resource (resources/) that may
// introspect and that the token's aud names (RFC 8707).
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { accessTokenLive, verifyAccessTokenSignature } from "../tokens/access-token";
import { findRefreshToken, hashToken } from "../tokens/service";
import { findResourceByCredentials } from "../resources/service";
import { authenticateClient } from "./client-auth";
import { readForm } from "./form";
import { NO_STORE_JSON } from "./token-response";

const INACTIVE = JSON.stringify({ active: false });

export async function handleIntrospection(deps: Deps, request: Request): Promise<Response> {
  const form = await readForm(request);
  const { client } = await authenticateClient(deps, request, form, { endpointUrl: `${deps.config.issuer}/oauth/introspect`, allowPublic: false });
  const token = form.get("token");
  if (!token) throw new OAuthError("invalid_request", "token is required");
  const hint = form.get("token_type_hint");
  const jwtLike = token.split(".").length === 3;
  let result: Record<string, unknown> | undefined;
  if (jwtLike && hint !== "refresh_token") result = await introspectAccessToken(deps, token, client.client_id);
  else result = (await introspectRefreshToken(deps, token, client.client_id)) ?? (jwtLike ? await introspectAccessToken(deps, token, client.client_id) : undefined);
  return new Response(result ? JSON.stringify(result) : INACTIVE, { status: 200, headers: NO_STORE_JSON });
}

async function introspectAccessToken(deps: Deps, token: string, callerId: string): Promise<Record<string, unknown> | undefined> {
  let claims;
  try {
    claims = await verifyAccessTokenSignature(deps, token);
  } catch {
    return undefined;
  }
  const aud = claims.aud ?? deps.config.issuer;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (claims.client_id !== callerId) {
    const resource = await findResourceByCredentials(deps.sql, callerId);
    if (!resource || !resource.may_introspect || !audiences.includes(resource.identifier)) return undefined;
  }
  if (!(await accessTokenLive(deps, claims))) return undefined;
  const out: Record<string, unknown> = {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    exp: claims.exp,
    iat: claims.iat,
    iss: claims.iss,
    aud,
    token_type: claims.cnf?.jkt ? "DPoP" : "Bearer",
    jti: claims.jti,
  };
  // RFC 9449 §6.2: the key a DPoP-bound token is bound to, for the resource server to check.
  if (typeof claims.cnf?.jkt === "string") out.cnf = { jkt: claims.cnf.jkt };
  // How the user signed in (OIDC Core §2, RFC 8176), as the access token carries it (RFC 9068 §2.2.1).
  if (claims.auth_time !== undefined) out.auth_time = claims.auth_time;
  if (typeof claims.acr === "string") out.acr = claims.acr;
  if (Array.isArray(claims.amr)) out.amr = claims.amr;
  return out;
}

async function introspectRefreshToken(deps: Deps, token: string, callerId: string): Promise<Record<string, unknown> | undefined> {
  const row = await findRefreshToken(deps.sql, hashToken(deps, token));
  if (!row || row.client_id !== callerId || row.rotated_at || row.revoked_at || row.grant_revoked || row.expires_at.getTime() <= Date.now()) return undefined;
  const out: Record<string, unknown> = {
    active: true,
    scope: row.scope,
    client_id: row.client_id,
    sub: row.user_id ?? row.client_id,
    exp: Math.floor(row.expires_at.getTime() / 1000),
    iat: Math.floor(row.created_at.getTime() / 1000),
    iss: deps.config.issuer,
    aud: row.client_id,
    token_type: "refresh_token",
  };
  if (row.auth_time) out.auth_time = Math.floor(row.auth_time.getTime() / 1000);
  if (row.acr) out.acr = row.acr;
  if (row.amr?.length) out.amr = row.amr;
  return out;
}
