// POST /oauth/device_authorization (RFC 8628 §3.1-3.2): the client authenticates exactly as at the
// token endpoint (public clients with `none` are the main use, §3.1), must be registered for the
// device grant, and gets a device code, a user code and where the user enters it.
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { enforceRateLimit } from "../http/rate-limit";
import { requestInfo } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { authenticateClient } from "../oauth/client-auth";
import { ENDPOINT_PATHS } from "../oauth/discovery";
import { readForm } from "../oauth/form";
import { NO_STORE_JSON } from "../oauth/token-response";
import { DEVICE_CODE_GRANT } from "./model";
import { createDeviceAuthorization } from "./service";

export async function handleDeviceAuthorization(deps: Deps, request: Request): Promise<Response> {
  const form = await readForm(request);
  const { client } = await authenticateClient(deps, request, form, { endpointUrl: `${deps.config.issuer}${ENDPOINT_PATHS.deviceAuthorization}`, allowPublic: true });
  if (!client.grant_types.includes(DEVICE_CODE_GRANT)) throw new OAuthError("unauthorized_client", "This client may not use the device authorization grant");
  // Each request writes a row: a source may open only so many (AUTHLY_AUTHORIZE_RATE_LIMIT, its own count).
  await enforceRateLimit(deps, `device-authorization:ip:${sourceKey(requestInfo(request).ip)}`, deps.config.authorizeRateLimitPerMinute, 60);
  const body = await createDeviceAuthorization(deps, client, form.get("scope"));
  return new Response(JSON.stringify(body), { status: 200, headers: NO_STORE_JSON });
}
