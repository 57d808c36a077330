// Logos shown on our pages are inlined as data: URIs, never hot-linked: an https logo (a client's
// logo_uri or the branding's) is fetched by the server through lib/outbound.ts (SSRF rules, time
// and size caps) and cached; one that does not load, is not an image or is too large is left out,
// so a page never shows a broken image and the browser never contacts the logo's host.
import { outboundPolicy, safeFetch, type OutboundPolicy } from "../lib/outbound";
import { log } from "../log";
import { BRANDING_LIMITS, isDataImage } from "./model";

export const LOGO_LIMITS = { timeoutMs: 3000, okTtlMs: 60 * 60 * 1000, failedTtlMs: 5 * 60 * 1000, cacheEntries: 256 };

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"]);

interface Entry {
  at: number;
  value: Promise<string | undefined>;
}
const cache = new Map<string, Entry>();

async function fetchLogo(uri: string, policy: OutboundPolicy): Promise<string | undefined> {
  try {
    const res = await safeFetch(uri, { headers: { Accept: [...IMAGE_TYPES].join(", ") } }, { ...policy, maxBytes: BRANDING_LIMITS.logoBytes, timeoutMs: LOGO_LIMITS.timeoutMs });
    const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (res.status !== 200 || !IMAGE_TYPES.has(type) || res.body.length === 0) {
      log.info("logo not shown", { uri_host: new URL(uri).host, status: res.status, content_type: type || null });
      return undefined;
    }
    return `data:${type};base64,${Buffer.from(res.body).toString("base64")}`;
  } catch (err) {
    log.info("logo not shown", { uri_host: new URL(uri).host, reason: err instanceof Error ? err.message : String(err) });
    return undefined;
  }
}

/** The logo as a data: URI ready for <img src>, or undefined (nothing to show). */
export async function inlineLogo(uri: string | null | undefined, config: Parameters<typeof outboundPolicy>[0]): Promise<string | undefined> {
  if (!uri) return undefined;
  if (uri.startsWith("data:")) return isDataImage(uri) ? uri : undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" || url.username || url.password) return undefined;
  const now = Date.now();
  const hit = cache.get(uri);
  if (hit && now - hit.at < LOGO_LIMITS.failedTtlMs) return hit.value;
  if (hit && now - hit.at < LOGO_LIMITS.okTtlMs && (await hit.value)) return hit.value;
  const value = fetchLogo(uri, outboundPolicy(config));
  cache.delete(uri);
  cache.set(uri, { at: now, value });
  while (cache.size > LOGO_LIMITS.cacheEntries) cache.delete(cache.keys().next().value!);
  return value;
}
