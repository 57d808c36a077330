// Request size limits answered with the OAuth JSON error shape: 413 for a body over
// AUTHLY_MAX_BODY_BYTES (RFC 9110 §15.5.14) and 431 for oversized headers (RFC 6585 §5). Bun
// itself cuts bodies at the hard cap below (chunked bodies included) and headers at about 16 KiB,
// with an empty 413/431; these checks answer before that, with a body clients can read.
// A client still sending its body when the server answers and closes gets a connection reset and
// may never read the 413 (RFC 9112 §9.6): the listener reads (drains) an oversized body, bounded
// by DRAIN_MAX_BYTES and DRAIN_MAX_MS (docs/reliability.md), before it answers.
import { json } from "./error-handler";

/** Request line plus header fields; below Bun's own ~16 KiB cut so the JSON answer is seen. */
export const MAX_HEADER_BYTES = 12 * 1024;

/** Most bytes of an oversized body read and dropped before the 413 (beyond the limit). */
export const DRAIN_MAX_BYTES = 4 * 1024 * 1024;
/** Longest time spent draining an oversized body; then the 413 is sent and the connection closed. */
export const DRAIN_MAX_MS = 3000;

/** Bun's hard body cap (`maxRequestBodySize`) for a configured limit: room for the drain. A larger
 *  declared Content-Length gets Bun's own empty 413 at once, without a read. */
export function hardBodyCap(maxBodyBytes: number): number {
  return maxBodyBytes + DRAIN_MAX_BYTES;
}

function tooLarge(maxBodyBytes: number): Response {
  return json(413, { error: "invalid_request", error_description: `Request body too large (limit ${maxBodyBytes} bytes)` }, { Connection: "close" });
}

/** Reads and drops the rest of a body within the drain bounds; never throws. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<void> {
  let read = alreadyRead;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<"expired">((r) => (timer = setTimeout(() => r("expired"), DRAIN_MAX_MS)));
  try {
    while (read <= DRAIN_MAX_BYTES) {
      const next = await Promise.race([reader.read(), expired]);
      if (next === "expired" || next.done) break;
      read += next.value.byteLength;
    }
  } catch {
    // The client went away or Bun cut the body: nothing left to drain.
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
}

/**
 * The listener's body check (server.ts), before the app: a declared Content-Length over the limit
 * is drained and answered 413; a chunked body is read here up to the limit (413 past it, after a
 * drain) and handed on as a body of known length. Anything else passes through untouched, at once.
 */
export function boundRequestBody(request: Request, maxBodyBytes: number): Request | Response | Promise<Request | Response> {
  // Read the headers first: touching request.body makes Bun build a stream, a cost on every request.
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (!/^\d+$/.test(declared.trim()) || Number(declared) <= maxBodyBytes) return request; // the app answers a bad one
    if (!request.body) return request;
    // A client that waits for 100 Continue sends nothing more: answer at once (RFC 9110 §10.1.1).
    if (/100-continue/i.test(request.headers.get("expect") ?? "")) return tooLarge(maxBodyBytes);
    return drain(request.body.getReader(), 0).then(() => tooLarge(maxBodyBytes));
  }
  // No Content-Length and no Transfer-Encoding: a request without a body (RFC 9112 §6.3).
  if (request.headers.get("transfer-encoding") === null || !request.body) return request;
  return (async () => {
    const reader = request.body!.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBodyBytes) {
          await drain(reader, size);
          return tooLarge(maxBodyBytes);
        }
        parts.push(value);
      }
    } catch {
      return tooLarge(maxBodyBytes); // Bun cut it at the hard cap
    }
    const headers = new Headers(request.headers);
    headers.delete("transfer-encoding");
    headers.set("content-length", String(size));
    return new Request(request.url, { method: request.method, headers, body: Buffer.concat(parts), signal: request.signal });
  })();
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
