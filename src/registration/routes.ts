// POST /oauth/register (RFC 7591 §3) and GET/PUT/DELETE /oauth/register/:client_id (RFC 7592 §2),
// mounted only when AUTHLY_REGISTRATION is not closed. JSON in and out, no caching; errors are
// RFC 7591 §3.2.2 JSON through the one error handler.
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { OAuthError, RateLimitError } from "../errors";
import { enforceRateLimit } from "../http/rate-limit";
import { requestInfo, splitTarget } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { decodeUtf8, isValidText, parseJsonSafely, pathDecode } from "../lib/text";
import { deleteRegistration, readRegistration, registerClient, REGISTRATION_PATH, updateRegistration } from "./service";

const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" } as const;
const RATE_WINDOW_SECONDS = 60;

function json(body: unknown, status: number): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

async function readJson(request: Request): Promise<unknown> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") throw new OAuthError("invalid_client_metadata", "The request body must be application/json (RFC 7591 §3.1)");
  const text = decodeUtf8(await request.arrayBuffer());
  const parsed = text === undefined ? undefined : parseJsonSafely(text);
  if (!parsed?.ok) throw new OAuthError("invalid_client_metadata", "The request body is not valid JSON text");
  return parsed.value;
}

/** The Bearer token of the request, if any (RFC 6750 §2.1). */
function bearer(request: Request): string | undefined {
  const h = request.headers.get("authorization");
  const m = h ? /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)$/i.exec(h.trim()) : null;
  if (h && !m) throw new OAuthError("invalid_token", "The Authorization header must be a Bearer token", { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });
  return m?.[1];
}

function clientIdOf(request: Request): string {
  const segment = splitTarget(request.url).pathname.split("/").pop() ?? "";
  const id = pathDecode(segment);
  if (id === undefined || !id || !isValidText(id)) throw new OAuthError("invalid_token", "Unknown client", { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });
  return id;
}

export function registrationRoutes(deps: Deps) {
  const app = new Elysia({ name: "registration" });
  if (deps.config.registration === "closed") return app;
  const detail = (summary: string) => ({ detail: { tags: ["oauth"], summary } });
  return app
    .post(REGISTRATION_PATH, async ({ request }) => {
      const ip = requestInfo(request).ip;
      const initialToken = bearer(request);
      // Open registration without a token writes a client per request: bounded per source.
      if (!initialToken && deps.config.registration === "open") {
        try {
          await enforceRateLimit(deps, `register:ip:${sourceKey(ip)}`, deps.config.registrationRateLimitPerMinute, RATE_WINDOW_SECONDS);
        } catch (err) {
          if (err instanceof RateLimitError) throw new OAuthError("temporarily_unavailable", "Too many registrations from this network; try again later", { status: 429, headers: err.headers });
          throw err;
        }
      }
      const body = await readJson(request);
      return json(await registerClient(deps, body, { ip, initialToken }), 201);
    }, { parse: "none", ...detail("Dynamic client registration (RFC 7591)") })
    .get(`${REGISTRATION_PATH}/:client_id`, async ({ request }) => json(await readRegistration(deps, clientIdOf(request), bearer(request)), 200), { parse: "none", ...detail("Read a registration (RFC 7592)") })
    .put(`${REGISTRATION_PATH}/:client_id`, async ({ request }) => {
      const clientId = clientIdOf(request);
      const token = bearer(request);
      const body = await readJson(request);
      return json(await updateRegistration(deps, clientId, token, body, requestInfo(request).ip), 200);
    }, { parse: "none", ...detail("Update a registration (RFC 7592)") })
    .delete(`${REGISTRATION_PATH}/:client_id`, async ({ request }) => {
      await deleteRegistration(deps, clientIdOf(request), bearer(request), requestInfo(request).ip);
      return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
    }, { parse: "none", ...detail("Delete a registration (RFC 7592)") });
}
