// Cookies of the browser session and the browser binding of pending interactions: HttpOnly,
// SameSite=Lax, Path=/, Secure (with the __Host- prefix) unless the issuer is plain-HTTP
// loopback in dev mode, where browsers would drop a Secure cookie.
import type { Config } from "../config";

export interface CookieSettings {
  secure: boolean;
  sessionName: string;
  browserName: string;
}

export function cookieSettings(config: Pick<Config, "issuer" | "devMode">): CookieSettings {
  const url = new URL(config.issuer);
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname) || url.hostname.endsWith(".localhost");
  const secure = url.protocol === "https:" || !(config.devMode && loopback);
  const prefix = secure ? "__Host-" : "";
  return { secure, sessionName: `${prefix}authly_session`, browserName: `${prefix}authly_browser` };
}

export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{1,128}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

/** A Set-Cookie value; maxAge undefined = a browser-session cookie, 0 = delete. */
export function serializeCookie(s: CookieSettings, name: string, value: string, maxAge?: number): string {
  const parts = [`${name}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax"];
  if (s.secure) parts.push("Secure");
  if (maxAge !== undefined) parts.push(`Max-Age=${maxAge}`);
  return parts.join("; ");
}
