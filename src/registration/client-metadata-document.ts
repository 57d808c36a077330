// Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document, used by MCP): when
// AUTHLY_CLIENT_ID_METADATA_DOCUMENTS is on, a client_id that is an https URL names the client's
// metadata, fetched from it through safeFetch (outbound rules, size and time caps) and validated by
// the one client validator. Its client_id must equal the URL; its redirect URIs are exactly the
// document's; it is a public client unless it publishes jwks/jwks_uri for private_key_jwt. Answers
// are cached per URL by their Cache-Control max-age, within bounds; failures briefly.
import type { Deps } from "../deps";
import type { ClientRecord } from "../clients/model";
import { findClientRecord, validateNewClient } from "../clients/service";
import { OAuthError, ValidationError } from "../errors";
import { OutboundError, outboundPolicy, safeFetch } from "../lib/outbound";
import { decodeUtf8, isValidText, parseJsonSafely } from "../lib/text";
import { registrationToClientBody } from "./model";

/** Bounds (docs/apis.md). */
export const DOCUMENT_LIMITS = {
  maxBytes: 5 * 1024,
  timeoutMs: 5000,
  maxUrlLength: 2000,
  cacheEntries: 1000,
  /** Cache lifetime without a max-age, and its bounds. */
  defaultTtlSeconds: 300,
  maxTtlSeconds: 86400,
  failureTtlSeconds: 30,
} as const;

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Whether this client_id is a metadata document URL this server resolves (draft §3): https with
 *  a path, no fragment, no credentials, no dot segments; http only for loopback in development. */
export function isMetadataDocumentClientId(deps: Pick<Deps, "config">, clientId: string): boolean {
  if (!deps.config.clientIdMetadataDocuments || clientId.length > DOCUMENT_LIMITS.maxUrlLength || !isValidText(clientId)) return false;
  if (!/^https?:\/\//i.test(clientId)) return false;
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return false;
  }
  const httpOk = url.protocol === "http:" && outboundPolicy(deps.config).allowLoopback && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== "https:" && !httpOk) return false;
  if (url.username || url.password || clientId.includes("#") || url.pathname === "/" || url.pathname === "") return false;
  if (clientId.split("?")[0]!.split("/").slice(3).some((s) => s === "." || s === "..")) return false;
  return true;
}

interface Entry {
  client: ClientRecord | undefined;
  expiresAt: number;
}
const caches = new WeakMap<object, Map<string, Entry>>();
const inflight = new WeakMap<object, Map<string, Promise<ClientRecord | undefined>>>();

function cacheOf<T>(map: WeakMap<object, Map<string, T>>, deps: Deps): Map<string, T> {
  let m = map.get(deps.config);
  if (!m) map.set(deps.config, (m = new Map()));
  return m;
}

/** Seconds a document may be kept: its max-age (s-maxage ignored), none for no-store/no-cache. */
function cacheSeconds(header: string | null): number {
  if (!header) return DOCUMENT_LIMITS.defaultTtlSeconds;
  const h = header.toLowerCase();
  if (/\bno-store\b|\bno-cache\b/.test(h)) return 0;
  const m = /\bmax-age=(\d{1,9})\b/.exec(h);
  return m ? Math.min(Number(m[1]), DOCUMENT_LIMITS.maxTtlSeconds) : DOCUMENT_LIMITS.defaultTtlSeconds;
}

/** The client a registered client_id or a metadata document URL names, or undefined. */
export async function resolveClient(deps: Deps, clientId: string): Promise<ClientRecord | undefined> {
  // Through the per-process client cache where a server runs one (clients/cache.ts).
  const stored = clientId.length > 255 ? undefined : deps.clientCache ? await deps.clientCache.load(clientId) : await findClientRecord(deps, deps.sql, clientId);
  if (stored || !isMetadataDocumentClientId(deps, clientId)) return stored;
  return documentClient(deps, clientId);
}

/** The client of a metadata document URL (cached), or undefined when it cannot be used. */
export async function documentClient(deps: Deps, url: string): Promise<ClientRecord | undefined> {
  const cache = cacheOf(caches, deps);
  const hit = cache.get(url);
  if (hit && hit.expiresAt > Date.now()) return hit.client;
  const pending = cacheOf(inflight, deps);
  const running = pending.get(url);
  if (running) return running;
  const p = fetchDocumentClient(deps, url)
    .then(({ client, ttl }) => {
      if (cache.size >= DOCUMENT_LIMITS.cacheEntries) cache.delete(cache.keys().next().value!);
      if (ttl > 0) cache.set(url, { client, expiresAt: Date.now() + ttl * 1000 });
      else cache.delete(url);
      return client;
    })
    .finally(() => pending.delete(url));
  pending.set(url, p);
  return p;
}

async function fetchDocumentClient(deps: Deps, url: string): Promise<{ client: ClientRecord | undefined; ttl: number }> {
  const failed = { client: undefined, ttl: DOCUMENT_LIMITS.failureTtlSeconds };
  let doc: Record<string, unknown>;
  let ttl: number;
  try {
    const res = await safeFetch(url, { headers: { Accept: "application/json" } }, { ...outboundPolicy(deps.config), maxBytes: DOCUMENT_LIMITS.maxBytes, timeoutMs: DOCUMENT_LIMITS.timeoutMs });
    if (res.status !== 200) return failed;
    const text = decodeUtf8(res.body);
    const parsed = text === undefined ? undefined : parseJsonSafely(text);
    if (!parsed?.ok || !parsed.value || typeof parsed.value !== "object" || Array.isArray(parsed.value)) return failed;
    doc = parsed.value as Record<string, unknown>;
    ttl = cacheSeconds(res.headers.get("cache-control"));
  } catch (err) {
    if (err instanceof OutboundError) return failed;
    throw err;
  }
  // Draft §4.1: the document names itself; it holds no shared secret.
  if (doc.client_id !== url || doc.client_secret !== undefined || doc.client_secret_expires_at !== undefined) return failed;
  const hasKeys = doc.jwks !== undefined || doc.jwks_uri !== undefined;
  const method = doc.token_endpoint_auth_method ?? (hasKeys ? "private_key_jwt" : "none");
  if (method !== "none" && method !== "private_key_jwt") return failed;
  let columns;
  let clientType: ClientRecord["client_type"];
  try {
    const body = registrationToClientBody({ ...doc, token_endpoint_auth_method: method, grant_types: doc.grant_types ?? ["authorization_code", "refresh_token"] });
    ({ columns, clientType } = await validateNewClient(deps, deps.sql, body, { dropUnknownScopes: true }));
  } catch (err) {
    // A document the validator refuses names no client; anything else (the database away) is no verdict.
    if (err instanceof ValidationError || err instanceof OAuthError) return failed;
    throw err;
  }
  // Client tokens are checked against a stored client (tokens/access-token.ts): none for a document.
  columns.grant_types = columns.grant_types.filter((g) => g !== "client_credentials");
  const host = new URL(url).host;
  const now = new Date();
  // The user sees where the client's metadata lives next to the name it gives itself.
  const name = columns.client_name && columns.client_name !== "Unnamed client" ? `${columns.client_name} (${host})` : host;
  const client: ClientRecord = {
    ...columns,
    mfa: columns.mfa ?? null,
    id: url,
    client_id: url,
    client_type: clientType,
    client_name: name,
    secret_hash: null,
    previous_secret_hash: null,
    previous_secret_expires_at: null,
    access_token_ttl: null,
    refresh_token_ttl: null,
    backchannel_logout_uri: columns.backchannel_logout_uri ?? null,
    resources: [],
    default_resource: null,
    require_pushed_authorization_requests: columns.require_pushed_authorization_requests ?? false,
    dpop_bound_access_tokens: columns.dpop_bound_access_tokens ?? false,
    fapi_profile: columns.fapi_profile ?? null,
    require_consent: true,
    is_first_party: false,
    is_active: true,
    created_at: now,
    updated_at: now,
  };
  return { client, ttl };
}
