// A deadline for every request (AUTHLY_REQUEST_TIMEOUT_SECONDS, default the mode's connect
// timeout): when the database stops answering without closing its connections (a network
// partition), a waiting request answers 503 temporarily_unavailable instead of hanging until TCP
// gives up. The 503 tells the truth: the request's writes run under db/sql.ts's commit guard, so
// work abandoned at the deadline rolls back instead of committing when the database comes back.
import type { Config } from "../config";
import { runWithDeadline } from "../db/sql";
import { log } from "../log";
import { json } from "./error-handler";
import { requestInfo } from "./request-context";

/** Bun.serve's idleTimeout cannot exceed 255 s (config.ts bounds the deadline to 240 s). */
const MAX_IDLE_TIMEOUT_SECONDS = 255;

/** The request deadline in seconds: AUTHLY_REQUEST_TIMEOUT_SECONDS, or the mode's connect timeout. */
export function requestDeadlineSeconds(config: Config): number {
  return config.requestTimeoutSeconds || config.mode.pool.connectTimeout;
}

/**
 * The listener's idle timeout: above the deadline, so that a request without a body that waits on
 * the database gets its 503 rather than a connection reset (Bun's default is 10 s).
 */
export function listenerIdleTimeoutSeconds(deadlineSeconds: number): number {
  return Math.min(MAX_IDLE_TIMEOUT_SECONDS, Math.max(10, deadlineSeconds + 10));
}

export function withDeadline(request: Request, handle: () => Response | Promise<Response>, ms: number): Response | Promise<Response> {
  if (ms <= 0) return handle();
  const { result: response, scope } = runWithDeadline(ms, handle);
  if (response instanceof Response) {
    scope.state = "answered";
    return response;
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<Response>((resolve) => {
    timer = setTimeout(() => {
      if (scope.state !== "running") return;
      // From here on, no write of this request commits (db/sql.ts).
      scope.state = "deadline";
      const info = requestInfo(request);
      info.status = 503;
      log.warn("request deadline passed", { request_id: info.id, deadline_ms: ms });
      resolve(json(503, { error: "temporarily_unavailable", error_description: "The service is temporarily unavailable; try again shortly" }, { "Retry-After": "1" }));
    }, ms);
  });
  const answered = response.finally(() => {
    clearTimeout(timer);
    if (scope.state === "running") scope.state = "answered";
  });
  return Promise.race([answered, expired]);
}
