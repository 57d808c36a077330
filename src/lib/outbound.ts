// Every HTTP request the server itself makes (a client's jwks_uri, back-channel logout tokens) goes
// through safeFetch: refused destinations (private, loopback, link-local, ... checked on every
// address the name resolves to, then connected to that very address), a time cap, a size cap
// enforced while the body streams, and no redirects followed.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Mode } from "../modes";

export type OutboundErrorCode = "refused_destination" | "too_large" | "timeout" | "network";

/** Why an outbound request did not complete. The message names the host, never a body or a token. */
export class OutboundError extends Error {
  constructor(readonly code: OutboundErrorCode, message: string) {
    super(message);
    this.name = "OutboundError";
  }
}

export interface OutboundPolicy {
  /** Loopback destinations (127/8, ::1, localhost) are allowed: development only. */
  allowLoopback: boolean;
}

/** Loopback receivers are allowed only in development: AUTHLY_DEV_MODE=true or the embedded mode
 *  (`serve --embedded`, AUTHLY_MODE=dev). Private and link-local ranges are refused always. */
export function outboundPolicy(config: { devMode: boolean; mode: { mode: Mode } }): OutboundPolicy {
  return { allowLoopback: config.devMode || config.mode.mode === "embedded" };
}

// [first address, prefix length, reason]. Loopback is listed apart because dev mode allows it.
const V4_BLOCKED: [string, number, string][] = [
  ["0.0.0.0", 8, "a 'this network' address (0.0.0.0/8)"],
  ["10.0.0.0", 8, "a private address (10.0.0.0/8)"],
  ["100.64.0.0", 10, "a shared (carrier-grade NAT) address (100.64.0.0/10)"],
  ["169.254.0.0", 16, "a link-local address (169.254.0.0/16)"],
  ["172.16.0.0", 12, "a private address (172.16.0.0/12)"],
  ["192.168.0.0", 16, "a private address (192.168.0.0/16)"],
  ["198.18.0.0", 15, "a benchmarking address (198.18.0.0/15)"],
  ["224.0.0.0", 4, "a multicast address (224.0.0.0/4)"],
  ["240.0.0.0", 4, "a reserved address (240.0.0.0/4, 255.255.255.255)"],
];
const V4_LOOPBACK: [string, number] = ["127.0.0.0", 8];

function v4ToInt(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function inV4(ip: number, [base, prefix]: [string, number, ...unknown[]]): boolean {
  const size = 2 ** (32 - prefix);
  const start = v4ToInt(base);
  return ip >= start && ip < start + size;
}

function v4Problem(ip: string, policy: OutboundPolicy): string | undefined {
  const n = v4ToInt(ip);
  if (inV4(n, V4_LOOPBACK)) return policy.allowLoopback ? undefined : "a loopback address (127.0.0.0/8)";
  return V4_BLOCKED.find((r) => inV4(n, r))?.[2];
}

/** The 16 bytes of an IPv6 address (an embedded dotted IPv4 tail and a zone id allowed). */
export function parseV6(ip: string): Uint8Array | undefined {
  let s = ip.replace(/%.*$/, "");
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)?.[1];
  if (tail) {
    if (isIP(tail) !== 4) return undefined;
    const n = v4ToInt(tail);
    s = `${s.slice(0, -tail.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const words = (h: string) => (h === "" ? [] : h.split(":"));
  const head = words(halves[0]!);
  const rest = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...new Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...rest];
  if (all.some((w) => !/^[0-9a-fA-F]{1,4}$/.test(w))) return undefined;
  const bytes = new Uint8Array(16);
  all.forEach((w, i) => {
    const n = Number.parseInt(w, 16);
    bytes[i * 2] = n >> 8;
    bytes[i * 2 + 1] = n & 0xff;
  });
  return bytes;
}

function v6Problem(ip: string, policy: OutboundPolicy): string | undefined {
  const b = parseV6(ip);
  if (!b) return "not a valid IPv6 address";
  const zero = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0);
  const v4At = (i: number) => `${b[i]}.${b[i + 1]}.${b[i + 2]}.${b[i + 3]}`;
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return v4Problem(v4At(12), policy); // ::ffff:0:0/96
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return v4Problem(v4At(12), policy); // 64:ff9b::/96
  if (b[0] === 0x20 && b[1] === 0x02) return v4Problem(v4At(2), policy); // 6to4 2002::/16
  if (zero(0, 12)) {
    if (zero(12, 16)) return "the unspecified address (::)";
    if (zero(12, 15) && b[15] === 1) return policy.allowLoopback ? undefined : "a loopback address (::1)";
    return "a deprecated IPv4-compatible address (::/96)";
  }
  if ((b[0]! & 0xfe) === 0xfc) return "a unique local (private) address (fc00::/7)";
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return "a link-local address (fe80::/10)";
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return "a site-local address (fec0::/10)";
  if (b[0] === 0xff) return "a multicast address (ff00::/8)";
  return undefined;
}

/** Why the server must not connect to this IP address, or undefined when it may. */
export function addressProblem(ip: string, policy: OutboundPolicy): string | undefined {
  const bare = ip.replace(/^\[|\]$/g, "");
  const family = isIP(bare.replace(/%.*$/, ""));
  if (family === 4) return v4Problem(bare, policy);
  if (family === 6) return v6Problem(bare, policy);
  return "not an IP address";
}

function isLocalhostName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost");
}

/**
 * Registration-time check of a URL the server will call: a literal address or a localhost name
 * that is refused. Other names are checked again on every request, after DNS resolution.
 */
export function destinationProblem(uri: string, policy: OutboundPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined; // the URL syntax is reported by its own check
  }
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isLocalhostName(host)) return policy.allowLoopback ? undefined : "must not point at this machine (localhost): the server refuses loopback destinations outside development mode";
  if (!isIP(host)) return undefined;
  const problem = addressProblem(host, policy);
  return problem ? `must not point at ${problem}: the server refuses private, loopback and link-local destinations` : undefined;
}

const CONNECT_ERRORS = new Set(["ECONNREFUSED", "ConnectionRefused", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL"]);

export interface OutboundLimits extends OutboundPolicy {
  /** The most response body bytes read; more aborts the request. */
  maxBytes: number;
  /** The whole request (DNS, connect, headers, body) ends by then. */
  timeoutMs: number;
}

export interface OutboundRequest {
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Only the status matters: the body is never read, whatever its size. */
  discardBody?: boolean;
}

export interface OutboundResponse {
  status: number;
  headers: Headers;
  /** Read only for 2xx answers (and not with discardBody); empty otherwise. */
  body: Uint8Array;
}

/** The checked addresses of the URL's host, every one of them allowed, in resolver order. */
async function resolveAllowed(url: URL, policy: OutboundPolicy, signal: AbortSignal): Promise<string[]> {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    const aborted = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
    try {
      addresses = (await Promise.race([lookup(host, { all: true, verbatim: true }), aborted])).map((a) => a.address);
    } catch (err) {
      if (err instanceof OutboundError) throw err;
      throw new OutboundError("network", `${host} could not be resolved`);
    }
  }
  if (!addresses.length) throw new OutboundError("network", `${host} could not be resolved`);
  for (const a of addresses) {
    const problem = addressProblem(a, policy);
    // One refused address refuses the name: a resolver may hand out any of them next time.
    if (problem) throw new OutboundError("refused_destination", `${host} resolves to ${problem}; refused`);
  }
  return addresses;
}

async function readCapped(res: Response, maxBytes: number, host: string, abort: () => void): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  const tooLarge = () => new OutboundError("too_large", `the response from ${host} exceeds ${maxBytes} bytes`);
  if (Number.isFinite(declared) && declared > maxBytes) {
    abort();
    throw tooLarge();
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      abort();
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * One outbound HTTP request under `limits`. Resolves the host, refuses it when any address is
 * refused, then connects to the checked address (the URL keeps its Host header and TLS server
 * name), so a DNS answer that changes between check and connect is never used. A redirect is
 * returned as is, never followed. Throws OutboundError.
 */
export async function safeFetch(uri: string, init: OutboundRequest, limits: OutboundLimits): Promise<OutboundResponse> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new OutboundError("refused_destination", "the URL is not valid");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new OutboundError("refused_destination", `the ${url.protocol} scheme is refused`);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new OutboundError("timeout", `${url.hostname} did not answer within ${limits.timeoutMs} ms`)), limits.timeoutMs);
  try {
    const addresses = await resolveAllowed(url, limits, controller.signal);
    const named = !isIP(url.hostname.replace(/^\[|\]$/g, ""));
    let res: Response | undefined;
    for (const [i, address] of addresses.entries()) {
      const pinned = new URL(url);
      pinned.hostname = isIP(address) === 6 ? `[${address}]` : address;
      try {
        res = await fetch(pinned, {
          method: init.method ?? "GET",
          headers: { ...init.headers, Host: url.host, "Accept-Encoding": "identity" },
          body: init.body,
          redirect: "manual",
          signal: controller.signal,
          keepalive: false,
          ...(url.protocol === "https:" && named ? { tls: { serverName: url.hostname } } : {}),
        } as RequestInit);
        break;
      } catch (err) {
        if (controller.signal.aborted) throw controller.signal.reason;
        // Only a refused or unreachable connection moves on to the next checked address: nothing was sent.
        const code = (err as { code?: string }).code ?? "";
        if (i < addresses.length - 1 && CONNECT_ERRORS.has(code)) continue;
        throw new OutboundError("network", `${url.hostname} could not be reached (${code || "network error"})`);
      }
    }
    if (!res) throw new OutboundError("network", `${url.hostname} could not be reached`);
    if (res.status < 200 || res.status >= 300 || init.discardBody) {
      await res.body?.cancel().catch(() => {});
      return { status: res.status, headers: res.headers, body: new Uint8Array(0) };
    }
    try {
      const body = await readCapped(res, limits.maxBytes, url.hostname, () => controller.abort(new OutboundError("too_large", "")));
      return { status: res.status, headers: res.headers, body };
    } catch (err) {
      if (err instanceof OutboundError && err.code === "too_large") throw err;
      if (controller.signal.aborted) throw controller.signal.reason;
      throw new OutboundError("network", `the response from ${url.hostname} was cut off`);
    }
  } finally {
    clearTimeout(timer);
  }
}
