// HTTP/1.1 over one kept-alive TCP connection, so that a test decides which `serve --workers N`
// process answers: SO_REUSEPORT hands a connection to one worker for its whole life, and
// /health/live on that connection names the worker.

export interface PinnedResponse {
  status: number;
  headers: Headers;
  text: string;
  json<T = any>(): T;
}

export interface PinnedConnection {
  request(method: string, path: string, init?: { headers?: Record<string, string>; body?: string }): Promise<PinnedResponse>;
  close(): void;
}

const TIMEOUT_MS = 15_000;

export async function openPinned(port: number, host = "127.0.0.1"): Promise<PinnedConnection> {
  let buffer = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  let closed = false;
  const socket = await Bun.connect({
    hostname: host,
    port,
    socket: {
      data(_s, chunk) {
        buffer = Buffer.concat([buffer, Buffer.from(chunk)]);
        wake?.();
      },
      close() {
        closed = true;
        wake?.();
      },
      error() {
        closed = true;
        wake?.();
      },
    },
  });
  const waitForData = (deadline: number) =>
    new Promise<void>((resolve, reject) => {
      if (closed) return reject(new Error("connection closed"));
      const t = setTimeout(() => reject(new Error("no answer in time")), Math.max(0, deadline - Date.now()));
      wake = () => {
        clearTimeout(t);
        wake = undefined;
        resolve();
      };
    });
  let queue: Promise<unknown> = Promise.resolve();

  async function readResponse(): Promise<PinnedResponse> {
    const deadline = Date.now() + TIMEOUT_MS;
    let headEnd: number;
    while ((headEnd = buffer.indexOf("\r\n\r\n")) < 0) await waitForData(deadline);
    const head = buffer.subarray(0, headEnd).toString("latin1").split("\r\n");
    buffer = buffer.subarray(headEnd + 4);
    const status = Number(head[0]!.split(" ")[1]);
    const headers = new Headers();
    for (const line of head.slice(1)) {
      const i = line.indexOf(":");
      headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    let body: Buffer;
    if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
      const parts: Buffer[] = [];
      for (;;) {
        let lineEnd: number;
        while ((lineEnd = buffer.indexOf("\r\n")) < 0) await waitForData(deadline);
        const size = Number.parseInt(buffer.subarray(0, lineEnd).toString("latin1"), 16);
        while (buffer.length < lineEnd + 2 + size + 2) await waitForData(deadline);
        parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
        buffer = buffer.subarray(lineEnd + 2 + size + 2);
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else {
      const length = Number(headers.get("content-length") ?? "0");
      while (buffer.length < length) await waitForData(deadline);
      body = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
    }
    const text = body.toString("utf8");
    return { status, headers, text, json: () => JSON.parse(text) };
  }

  return {
    request(method, path, init = {}) {
      const run = async () => {
        const body = init.body ?? "";
        const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}:${port}`, "Connection: keep-alive"];
        for (const [k, v] of Object.entries(init.headers ?? {})) lines.push(`${k}: ${v}`);
        if (body || method !== "GET") lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
        socket.write(`${lines.join("\r\n")}\r\n\r\n${body}`);
        return readResponse();
      };
      const p = queue.then(run, run);
      queue = p.catch(() => {});
      return p;
    },
    close() {
      socket.end();
    },
  };
}

/**
 * Opens connections until one lands on each of `count` workers (bounded in attempts), closing the
 * extras. Returns them by worker id.
 */
export async function connectToEachWorker(port: number, count: number, maxAttempts = 200): Promise<Map<number, PinnedConnection>> {
  const byWorker = new Map<number, PinnedConnection>();
  for (let i = 0; i < maxAttempts && byWorker.size < count; i++) {
    const c = await openPinned(port);
    const live = await c.request("GET", "/health/live");
    const worker = Number(live.json().worker);
    if (worker && !byWorker.has(worker)) byWorker.set(worker, c);
    else c.close();
  }
  if (byWorker.size < count) throw new Error(`reached ${byWorker.size} of ${count} workers in ${maxAttempts} connections`);
  return byWorker;
}
