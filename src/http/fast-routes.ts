// The listener's fast path for the public documents (metadata and JWKS): relying parties and
// gateways fetch them far more often than anything else, so a plain GET or HEAD of one is answered
// by Bun's own router (Bun.serve `routes`) with a prepared response, before the Elysia pipeline,
// whose global hooks would cost about half the throughput. The access log and the request metrics
// record these requests as they record every other one. Anything unusual (a declared or chunked
// body, a very long target) takes the full pipeline, which serves the same documents through the
// Elysia routes with its limits and error answers.
import type { Server } from "bun";
import type { Deps } from "../deps";
import { recordHttpRequest } from "../metrics/index";
import type { PublicDocuments } from "../oauth/documents";
import { accessLog, beginRequest } from "./request-context";
import { withDeadline } from "./deadline";

type Handler = (request: Request, server: Server<unknown>) => Response | Promise<Response>;

/** Bun's router reads `:` and `*` as parameters and wildcards: such a path stays with Elysia. */
const LITERAL_PATH = /^\/[A-Za-z0-9._~\/-]*$/;
/** Longer request targets go through the full pipeline and its request-size checks. */
const MAX_FAST_URL_LENGTH = 2048;

export function publicDocumentRoutes(
  deps: Pick<Deps, "config">,
  documents: PublicDocuments,
  fullPipeline: Handler,
  deadlineMs: number,
): Record<string, { GET: Handler }> {
  const logAccess = deps.config.accessLog;
  const route = (path: string, answer: (request: Request) => Response | Promise<Response>): Handler => (request, server) => {
    if (request.url.length > MAX_FAST_URL_LENGTH || request.headers.has("content-length") || request.headers.has("transfer-encoding")) {
      return fullPipeline(request, server);
    }
    const start = performance.now();
    if (logAccess) beginRequest(request, server.requestIP(request)?.address, deps.config.trustedProxies);
    const done = (response: Response): Response => {
      if (logAccess) accessLog(request, response.status, true);
      recordHttpRequest(request.method, path, response.status, (performance.now() - start) / 1000);
      return response;
    };
    const response = answer(request);
    return response instanceof Response ? done(response) : withDeadline(request, response.then(done), deadlineMs);
  };
  const routes: Record<string, { GET: Handler }> = {};
  for (const path of documents.metadataPaths) {
    if (LITERAL_PATH.test(path)) routes[path] = { GET: route(path, () => documents.metadata()) };
  }
  routes[documents.jwksPath] = { GET: route(documents.jwksPath, (request) => documents.jwks(request)) };
  return routes;
}
