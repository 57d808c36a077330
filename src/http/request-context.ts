// Per-request facts every route needs: a request id, the client address (X-Forwarded-For only from
// a trusted proxy), and the start time for the access log.
import { jsonLogs, log } from "../log";
import { isIP } from "node:net";

export interface RequestInfo {
  id: string;
  start: number;
  ip: string;
  /**
   * The request carries X-Forwarded-For, Forwarded or X-Real-IP but its peer is not a trusted proxy:
   * a proxy relayed it (a same-host one shows as 127.0.0.1), so its real client is unknown and it
   * must not count as loopback (isLoopbackClient).
   */
  relayed: boolean;
  route?: string;
  /** The route puts the common headers on its response itself (http/cors.ts addCommonHeaders). */
  selfHeaded?: boolean;
  /** Set by the error handler: the status of an error response. */
  status?: number;
}

const infos = new WeakMap<Request, RequestInfo>();
const peers = new WeakMap<Request, string>();

/** The listener records the socket peer of each request (server.ts), before the app runs. */
export function setPeerAddress(request: Request, address: string | undefined): void {
  if (address) peers.set(request, address);
}

export function beginRequest(request: Request, socketIp: string | undefined, trustedProxies: string[]): RequestInfo {
  socketIp ??= peers.get(request);
  const info: RequestInfo = { id: crypto.randomUUID(), start: performance.now(), ip: clientIp(request, socketIp, trustedProxies), relayed: relayedByUntrustedPeer(request, socketIp, trustedProxies) };
  infos.set(request, info);
  return info;
}

export function requestInfo(request: Request): RequestInfo {
  return infos.get(request) ?? { id: "-", start: performance.now(), ip: "unknown", relayed: false };
}

const FORWARDING_HEADERS = ["x-forwarded-for", "forwarded", "x-real-ip"] as const;

/** A forwarding header from a peer that is not a configured proxy (see RequestInfo.relayed). */
export function relayedByUntrustedPeer(request: Request, socketIp: string | undefined, trustedProxies: string[]): boolean {
  if (!FORWARDING_HEADERS.some((h) => request.headers.has(h))) return false;
  return !isTrusted(normalizeIp(socketIp ?? "unknown"), trustedProxies);
}

/**
 * Whether the client is on this host: a loopback address that no untrusted proxy relayed. The
 * loopback-only rules (admin API, /metrics) use this, never isLoopback(info.ip) alone.
 */
export function isLoopbackClient(request: Request): boolean {
  const info = requestInfo(request);
  return isLoopback(info.ip) && !info.relayed;
}

/** The client address: the socket peer, or the right-most untrusted X-Forwarded-For hop when the
 *  peer is a configured proxy. */
export function clientIp(request: Request, socketIp: string | undefined, trustedProxies: string[]): string {
  const peer = normalizeIp(socketIp ?? "unknown");
  if (!trustedProxies.length || !isTrusted(peer, trustedProxies)) return peer;
  const xff = request.headers.get("x-forwarded-for");
  if (!xff) return peer;
  const hops = xff.split(",").map((h) => normalizeIp(h.trim())).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    // A hop that is not an address (garbage a proxy passed through) ends the chain of trust: the
    // last trusted hop is the best we know, and no free text reaches rate-limit keys or the audit log.
    if (!isIP(hops[i]!)) return i === hops.length - 1 ? peer : hops[i + 1]!;
    if (!isTrusted(hops[i]!, trustedProxies)) return hops[i]!;
  }
  return hops[0] ?? peer;
}

function normalizeIp(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

function isTrusted(ip: string, trusted: string[]): boolean {
  return trusted.some((t) => t === ip || (t === "loopback" && isLoopback(ip)));
}

export function isLoopback(ip: string): boolean {
  return ip === "::1" || ip.startsWith("127.") || ip === "localhost";
}

/** Path and the length of path + query of an absolute request URL, without a URL parse. */
export function splitTarget(url: string): { pathname: string; pathAndQueryLength: number } {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return { pathname: "/", pathAndQueryLength: 1 };
  const q = url.indexOf("?", start);
  const h = url.indexOf("#", start);
  const end = q === -1 ? (h === -1 ? url.length : h) : q;
  return { pathname: url.slice(start, end), pathAndQueryLength: (h === -1 ? url.length : h) - start };
}

export function accessLog(request: Request, fallbackStatus: number, enabled: boolean): void {
  if (!enabled) return;
  const info = requestInfo(request);
  const status = info.status ?? fallbackStatus;
  const url = new URL(request.url);
  const ms = Math.round((performance.now() - info.start) * 100) / 100;
  const msg = `${request.method} ${url.pathname} ${status} ${ms}ms`;
  if (!jsonLogs) return log.info(`${msg} [${info.id}]`);
  log.info(msg, { type: "access", method: request.method, path: url.pathname, status, duration_ms: ms, request_id: info.id, ip: info.ip });
}
