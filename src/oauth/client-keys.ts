// The keys a private_key_jwt client signs with (RFC 7523 §3, RFC 7591 §2 jwks / jwks_uri). A
// jwks_uri is read through safeFetch (size and time capped, destinations checked) and cached per
// process: a good set for JWKS_CACHE_MS, a failure for JWKS_FAILURE_COOLDOWN_MS, so anonymous
// token requests cannot make the server fetch (or re-fetch) a document at will.
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { ClientRecord } from "../clients/model";
import { OutboundError, safeFetch, type OutboundPolicy } from "../lib/outbound";

/** The largest jwks_uri document read; a bigger one is a failure. */
export const JWKS_MAX_BYTES = 64 * 1024;
/** The whole fetch (DNS, connect, answer, body) of a jwks_uri. */
export const JWKS_TIMEOUT_MS = 5_000;
/** A good key set is used this long before it is fetched again. */
export const JWKS_CACHE_MS = 10 * 60_000;
/** After a failed fetch, the URI is not fetched again for this long (per process). */
export const JWKS_FAILURE_COOLDOWN_MS = 60_000;
/** A key id missing from a cached set refetches it (key rotation), at most this often. */
export const JWKS_REFRESH_MIN_MS = 30_000;
/** Cached URIs per process; the oldest entry goes first past this. */
const MAX_ENTRIES = 1_000;

interface Entry {
  at: number;
  keys?: JWTVerifyGetKey;
  failure?: string;
  pending?: Promise<Entry>;
}

const cache = new Map<string, Entry>();

/** Why a client's keys could not be had; its message is safe to show to that client. */
export class ClientKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ClientKeysError";
  }
}

async function fetchKeySet(uri: string, policy: OutboundPolicy): Promise<Entry> {
  const at = Date.now();
  try {
    const res = await safeFetch(uri, { headers: { Accept: "application/json, application/jwk-set+json" } }, { ...policy, maxBytes: JWKS_MAX_BYTES, timeoutMs: JWKS_TIMEOUT_MS });
    if (res.status !== 200) return { at, failure: `the client's jwks_uri answered HTTP ${res.status}` };
    const doc = JSON.parse(new TextDecoder().decode(res.body)) as JSONWebKeySet;
    return { at, keys: createLocalJWKSet(doc) };
  } catch (err) {
    if (err instanceof OutboundError) return { at, failure: `the client's jwks_uri could not be used: ${err.message}` };
    return { at, failure: "the client's jwks_uri is not a JWK Set document" };
  }
}

/** The cached entry for `uri`, fetched when missing, stale, or (with `refresh`) older than the
 *  refresh interval. Concurrent callers share one fetch. */
async function entryFor(uri: string, policy: OutboundPolicy, refresh: boolean): Promise<Entry> {
  const now = Date.now();
  // One policy per process in practice; keyed by it too so that differently configured apps in
  // one process (tests) never share an answer fetched under a looser policy.
  const key = `${policy.allowLoopback ? "loopback-allowed" : "public-only"} ${uri}`;
  const cur = cache.get(key);
  if (cur?.pending) return cur.pending;
  if (cur?.failure && now - cur.at < JWKS_FAILURE_COOLDOWN_MS) return cur;
  if (cur?.keys && now - cur.at < (refresh ? JWKS_REFRESH_MIN_MS : JWKS_CACHE_MS)) return cur;
  const pending = fetchKeySet(uri, policy).then((e) => {
    cache.delete(key);
    cache.set(key, e);
    while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    return e;
  });
  cache.set(key, { ...(cur ?? { at: now }), pending });
  return pending;
}

/** A key getter for jwtVerify over the client's registered keys, or undefined when it has none. */
export function clientKeySet(client: ClientRecord, policy: OutboundPolicy): JWTVerifyGetKey | undefined {
  if (client.jwks?.keys?.length) return createLocalJWKSet(client.jwks as unknown as JSONWebKeySet);
  const uri = client.jwks_uri;
  if (!uri) return undefined;
  return remoteKeySet(uri, policy);
}

/** A key getter over a JWK Set at `uri`, through the same fetch rules and cache (also the keys of
 *  an upstream identity provider, src/authn/upstream/). */
export function remoteKeySet(uri: string, policy: OutboundPolicy): JWTVerifyGetKey {
  return async (header, token) => {
    let entry = await entryFor(uri, policy, false);
    if (entry.keys) {
      try {
        return await entry.keys(header, token);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
        entry = await entryFor(uri, policy, true); // the client may have rotated its keys
        if (!entry.keys) throw new ClientKeysError(entry.failure!);
        return entry.keys(header, token);
      }
    }
    throw new ClientKeysError(entry.failure!);
  };
}
