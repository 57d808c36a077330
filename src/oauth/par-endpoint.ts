// POST /oauth/par, the pushed authorization request endpoint (RFC 9126 §2): the client
// authenticates as at the token endpoint (oauth/client-auth.ts), its parameters (or its signed
// request object, RFC 9101) are validated by the authorization endpoint's one validator, and the
// request is stored for a single use. Every error is JSON (§2.3), never a redirect or a page.
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { enforceRateLimit } from "../http/rate-limit";
import { requestInfo } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { urlEncodedBody } from "../lib/text";
import { validateAuthorizationRequest } from "./authorize";
import { authenticateClient } from "./client-auth";
import { ENDPOINT_PATHS } from "./discovery";
import { parseForm } from "./form";
import { dpopError, dpopHeader, verifyDpopProof } from "./dpop";
import { storePushedRequest } from "./par";
import { FAPI_ALGS, isFapi2 } from "./fapi2";
import { parseParams } from "./request-params";

const RATE_WINDOW_SECONDS = 60;

/** RFC 9126 §2.3: any method but POST is 405, with the OAuth error shape. */
export function parMethodNotAllowed(): Response {
  return new Response(JSON.stringify({ error: "invalid_request", error_description: "The pushed authorization request endpoint accepts POST only" }), {
    status: 405,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", Allow: "POST" },
  });
}

export async function handlePushedAuthorizationRequest(deps: Deps, request: Request): Promise<Response> {
  const body = urlEncodedBody(await request.arrayBuffer());
  // The strict form parser (repeats, invalid text: invalid_request) for authentication; the
  // authorization validator reads the same body as the authorization endpoint would.
  const form = parseForm(request.headers.get("content-type"), body);
  const { client } = await authenticateClient(deps, request, form, { endpointUrl: `${deps.config.issuer}${ENDPOINT_PATHS.pushedAuthorizationRequest}`, allowPublic: true });
  let validated;
  try {
    validated = await validateAuthorizationRequest(deps, parseParams(body), { via: "par", client });
  } catch (err) {
    // §2.3: the authorization endpoint's errors, answered to the client as JSON.
    if (err instanceof OAuthError) throw new OAuthError(err.code, err.description, { status: err.status === 429 ? 429 : 400, headers: err.headers, cause: err.cause });
    throw err;
  }
  // RFC 9449 §10.1: a DPoP proof sent to PAR binds the code to its key, like dpop_jkt (which,
  // when both are sent, must name the same key).
  const proof = dpopHeader(deps, request, "token");
  if (proof) {
    const { jkt } = await verifyDpopProof(deps, proof, { method: "POST", url: `${deps.config.issuer}${ENDPOINT_PATHS.pushedAuthorizationRequest}`, at: "token", ...(isFapi2(deps, client) ? { algs: FAPI_ALGS } : {}) });
    const named = validated.params.values.dpop_jkt;
    if (named !== undefined && named !== jkt) throw dpopError(deps, "token", "invalid_dpop_proof", "dpop_jkt does not match the key of the DPoP proof");
    validated.params.values.dpop_jkt = jkt;
  }
  // Each pushed request is a row: a source address may push as many as it may open interactions.
  await enforceRateLimit(deps, `par:ip:${sourceKey(requestInfo(request).ip)}`, deps.config.authorizeRateLimitPerMinute, RATE_WINDOW_SECONDS);
  const answer = await storePushedRequest(deps, client, validated.params);
  return new Response(JSON.stringify(answer), { status: 201, headers: { "Content-Type": "application/json", "Cache-Control": "no-store" } });
}
