// Request size limits answered with the OAuth JSON error shape: 413 for a declared body over
// AUTHLY_MAX_BODY_BYTES (RFC 9110 §15.5.14) and 431 for oversized headers (RFC 6585 §5). Bun
// itself cuts bodies at twice the limit (chunked bodies included) and headers at about 16 KiB,
// with an empty 413/431; these checks answer before that, with a body clients can read.
import { json } from "./error-handler";

/** Request line plus header fields; below Bun's own ~16 KiB cut so the JSON answer is seen. */
export const MAX_HEADER_BYTES = 12 * 1024;

/** Bun's hard body cap (`maxRequestBodySize`) for a configured limit. */
export function hardBodyCap(maxBodyBytes: number): number {
  return maxBodyBytes * 2;
}

export function checkRequestLimits(request: Request, pathAndQueryLength: number, maxBodyBytes: number): Response | undefined {
  let headerBytes = request.method.length + pathAndQueryLength + 12;
  for (const [k, v] of request.headers) headerBytes += k.length + v.length + 4;
  if (headerBytes > MAX_HEADER_BYTES) {
    return json(431, { error: "invalid_request", error_description: "Request headers too large" }, { Connection: "close" });
  }
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    const n = Number(declared);
    if (!/^\d+$/.test(declared.trim()) || !Number.isSafeInteger(n)) {
      return json(400, { error: "invalid_request", error_description: "Invalid Content-Length" }, { Connection: "close" });
    }
    if (n > maxBodyBytes) {
      return json(413, { error: "invalid_request", error_description: `Request body too large (limit ${maxBodyBytes} bytes)` }, { Connection: "close" });
    }
  }
  return undefined;
}
