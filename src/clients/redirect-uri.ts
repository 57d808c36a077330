// Registration-time checks of redirect URIs (RFC 6749 §3.1.2, OAuth 2.1 §2.3.1, RFC 8252 §7):
// absolute, no fragment, `http` only for loopback hosts, private-use schemes for native apps.
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const FORBIDDEN_SCHEMES = new Set(["javascript", "data", "vbscript", "file", "about", "blob"]);
export const REDIRECT_URI_MAX = 2000;

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** Why a redirect URI cannot be registered, or undefined when it can. */
export function redirectUriProblem(uri: string): string | undefined {
  if (uri.length === 0) return "must not be empty";
  if (uri.length > REDIRECT_URI_MAX) return `must be at most ${REDIRECT_URI_MAX} characters`;
  if (/\s/.test(uri)) return "must not contain whitespace";
  if (uri.includes("#")) return "must not contain a fragment (RFC 6749 §3.1.2)";
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (!scheme) return "must be an absolute URI with a scheme";
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "must be an absolute URI";
  }
  if (FORBIDDEN_SCHEMES.has(scheme)) return `the '${scheme}' scheme is not allowed`;
  if (scheme === "https") {
    if (!url.hostname) return "must name a host";
    return undefined;
  }
  if (scheme === "http") {
    if (!isLoopbackHost(url.hostname)) return "http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1]); use https";
    return undefined;
  }
  // Private-use URI scheme of a native app (RFC 8252 §7.1), e.g. com.example.app:/callback.
  return undefined;
}

/** Web URLs in client metadata (client_uri, logo_uri, ...): http(s) only. */
export function webUrlProblem(uri: string, opts: { httpsOnly?: boolean } = {}): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && (!opts.httpsOnly || isLoopbackHost(url.hostname))) return undefined;
  return opts.httpsOnly ? "must be an https URL" : "must be an http or https URL";
}
