// POST /oauth/token (RFC 6749 §3.2): form body, client authentication, then one grant handler per
// grant type (one file each). Errors are OAuthError -> §5.2 JSON in http/error-handler.ts.
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { isLoopbackClient, requestInfo } from "../http/request-context";
import { metrics } from "../metrics/index";
import { authenticateClient } from "./client-auth";
import { readForm } from "./form";
import { authorizationCodeGrant } from "./token-authorization-code";
import { clientCredentialsGrant } from "./token-client-credentials";
import { deviceCodeGrant } from "./token-device-code";
import { DEVICE_CODE_GRANT } from "../device/model";
import { passwordGrant } from "./token-password";
import { refreshTokenGrant } from "./token-refresh";
import { dpopError, dpopHeader, dpopNonceHeaders, verifyDpopProof } from "./dpop";
import { FAPI_ALGS, isFapi2, requiresDpop } from "./fapi2";
import { tokenResponse, type TokenContext, type TokenResponseBody } from "./token-response";

const GRANTS: Record<string, (ctx: TokenContext) => Promise<TokenResponseBody>> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
  [DEVICE_CODE_GRANT]: deviceCodeGrant,
};

/** The grant types discovery advertises (password is first-party only and never advertised). */
export const ADVERTISED_GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT];

export async function handleTokenRequest(deps: Deps, request: Request): Promise<Response> {
  const form = await readForm(request);
  const grantType = form.get("grant_type");
  if (!grantType) throw new OAuthError("invalid_request", "grant_type is required");
  const handler = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined;
  if (!handler) throw new OAuthError("unsupported_grant_type", "The grant type is not supported");
  const { client, method } = await authenticateClient(deps, request, form, { endpointUrl: `${deps.config.issuer}/oauth/token`, allowPublic: true });
  if (grantType === "password" && !client.is_first_party) throw new OAuthError("unsupported_grant_type", "The grant type is not supported");
  if (!client.grant_types.includes(grantType)) throw new OAuthError("unauthorized_client", `This client may not use the ${grantType} grant`);
  // RFC 9449 §5: a valid proof binds the tokens to its key; a client that registered
  // dpop_bound_access_tokens (or is in FAPI 2.0 mode) must send one.
  const proof = dpopHeader(deps, request, "token");
  let dpopJkt: string | undefined;
  if (proof) dpopJkt = (await verifyDpopProof(deps, proof, { method: "POST", url: `${deps.config.issuer}/oauth/token`, at: "token", ...(isFapi2(deps, client) ? { algs: FAPI_ALGS } : {}) })).jkt;
  else if (requiresDpop(deps, client)) throw dpopError(deps, "token", "invalid_dpop_proof", "This client must send a DPoP proof (dpop_bound_access_tokens)");
  const body = await handler({ deps, form, client, method, ip: requestInfo(request).ip, loopback: isLoopbackClient(request), dpopJkt });
  // The body is read raw here (parse: "none"), so the access-log hook cannot see grant_type.
  metrics.inc("authly_tokens_issued_total", { grant_type: grantType });
  return tokenResponse(body, proof ? dpopNonceHeaders(deps) : {});
}
