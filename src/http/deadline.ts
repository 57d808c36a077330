// A deadline for every request (AUTHLY_REQUEST_TIMEOUT_SECONDS, default the mode's connect
// timeout): when the database stops answering without closing its connections (a network
// partition), a waiting request answers 503 temporarily_unavailable instead of hanging until TCP
// gives up. The work itself is not cancelled; its late result is dropped.
import { log } from "../log";
import { json } from "./error-handler";
import { requestInfo } from "./request-context";

export function withDeadline(request: Request, response: Response | Promise<Response>, ms: number): Response | Promise<Response> {
  if (response instanceof Response || ms <= 0) return response;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<Response>((resolve) => {
    timer = setTimeout(() => {
      const info = requestInfo(request);
      info.status = 503;
      log.warn("request deadline passed", { request_id: info.id, deadline_ms: ms });
      resolve(json(503, { error: "temporarily_unavailable", error_description: "The service is temporarily unavailable; try again shortly" }, { "Retry-After": "1" }));
    }, ms);
  });
  return Promise.race([response.finally(() => clearTimeout(timer)), expired]);
}
