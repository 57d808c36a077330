// Redirect URI matching (OAuth 2.1 §4.1.1, RFC 9700 §4.1.3): exact string comparison against the
// registered URIs, with one exception: loopback redirect URIs of native apps may use any port
// (RFC 8252 §7.3). Nothing is normalised, so prefix, suffix, encoding and userinfo tricks fail.
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?][^#]*)?$/;

interface LoopbackParts {
  host: string;
  port?: number;
  rest: string;
}

function loopbackParts(uri: string): LoopbackParts | undefined {
  const m = LOOPBACK.exec(uri);
  if (!m) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535 || m[2]!.startsWith("0"))) return undefined;
  return { host: m[1]!, port, rest: m[3] ?? "" };
}

/** The registered URI that `requested` matches, or undefined. */
export function matchRedirectUri(registered: readonly string[], requested: string): string | undefined {
  if (registered.includes(requested)) return requested;
  const req = loopbackParts(requested);
  if (!req) return undefined;
  for (const r of registered) {
    const reg = loopbackParts(r);
    if (reg && reg.host === req.host && reg.rest === req.rest) return r;
  }
  return undefined;
}

/** Adds parameters to a redirect URI, keeping its own query (RFC 6749 §3.1.2). */
export function appendParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  return url.toString();
}
