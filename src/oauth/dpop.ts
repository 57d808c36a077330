// DPoP proofs (RFC 9449): the checks of §4.3 on a `DPoP` header, server nonces (§8) as an HMAC of
// a time window (valid on every node, nothing written per nonce), and the replay store of proof
// jtis (§11.1) in PostgreSQL, written in batches (one INSERT for every proof that arrived while
// the previous INSERTs ran, at most two at a time; a failed batch is retried key by key so one bad
// key fails only its request).
import { createHash, createHmac, createPublicKey, type JsonWebKeyInput, type KeyObject } from "node:crypto";
import type { JWK } from "jose";
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { BatchLoader } from "../lib/batch-loader";
import { safeEqual } from "../lib/crypto";
import { verify as verifyOnThread, type JwsAlg } from "../lib/crypto-threads";
import { base64urlJsonObject } from "../lib/text";
import { recordDpopJtis } from "./dpop-store";

/** dpop_signing_alg_values_supported: asymmetric only (§4.3 check 5); EdDSA is Ed25519. */
export const DPOP_ALGS = ["ES256", "EdDSA", "PS256", "RS256"] as const;
/** A proof's iat may be this far in the past or the future (§4.3 check 11, §11.1). */
export const DPOP_IAT_WINDOW_SECONDS = 60;
/** A nonce is valid for the window it was made in and the next one (§8). */
const NONCE_WINDOW_SECONDS = 300;
const PROOF_MAX_LENGTH = 8192;
const JTI_MAX_LENGTH = 256;
/** Imported public keys, by their JWK: a client sends the same key with every proof (bounded). */
const KEY_CACHE_MAX = 2000;
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const KTY_OF: Record<string, string> = { ES256: "EC", EdDSA: "OKP", PS256: "RSA", RS256: "RSA" };
/** RFC 7518 §3.5 / FAPI 2.0 §5.4.1: RSA keys of at least 2048 bits. */
const RSA_MIN_BITS = 2048;

/** What a proof was verified for: the request it came with, and at a resource the token (ath). */
export interface ProofTarget {
  method: string;
  /** The request's URL as the client addressed it (the issuer's origin and path). */
  url: string;
  accessToken?: string;
  /** "token": the token, PAR endpoints (400 errors); "resource": UserInfo, admin API (401, WWW-Authenticate). */
  at: "token" | "resource";
  /** Accepted algorithms when narrower than DPOP_ALGS (FAPI 2.0 §5.4.1). */
  algs?: readonly string[];
}

export interface VerifiedProof {
  /** The JWK SHA-256 thumbprint of the proof's key (RFC 7638), base64url: `cnf.jkt`. */
  jkt: string;
}

/** The current server nonce (§8): HMAC of the time window under the server's secret. */
export function currentDpopNonce(deps: Deps, now = Date.now()): string {
  return nonceFor(deps, Math.floor(now / 1000 / NONCE_WINDOW_SECONDS));
}

function nonceFor(deps: Deps, window: number): string {
  return createHmac("sha256", deps.peppers.secrets).update(`dpop-nonce:${window}`).digest("base64url");
}

function nonceValid(deps: Deps, nonce: string): boolean {
  const w = Math.floor(Date.now() / 1000 / NONCE_WINDOW_SECONDS);
  return safeEqual(nonce, nonceFor(deps, w)) || safeEqual(nonce, nonceFor(deps, w - 1));
}

/** Headers of a successful response that used DPoP: the nonce to use next (§8.2). */
export function dpopNonceHeaders(deps: Deps): Record<string, string> {
  return deps.config.dpopNonce ? { "DPoP-Nonce": currentDpopNonce(deps) } : {};
}

/** The error of a failed check, in the shape of where it happened (§5: 400 at the token endpoint; §7.1: 401 + WWW-Authenticate at a resource). */
export function dpopError(deps: Deps, at: ProofTarget["at"], code: "invalid_dpop_proof" | "use_dpop_nonce" | "invalid_token", description: string): OAuthError {
  const headers: Record<string, string> = {};
  if (code === "use_dpop_nonce") headers["DPoP-Nonce"] = currentDpopNonce(deps);
  if (at === "resource") {
    headers["WWW-Authenticate"] = `DPoP error="${code}", error_description="${description.replace(/["\\]/g, "")}", algs="${DPOP_ALGS.join(" ")}"`;
    return new OAuthError(code, description, { status: 401, headers });
  }
  return new OAuthError(code, description, { status: 400, headers });
}

/** The request URL without query and fragment, normalised (§4.3 check 9; RFC 3986 §6.2.2-3). */
export function normaliseHtu(value: string): string | undefined {
  try {
    const u = new URL(value);
    if (u.protocol !== "https:" && u.protocol !== "http:") return undefined;
    u.search = "";
    u.hash = "";
    return u.href;
  } catch {
    return undefined;
  }
}

/** The one DPoP header of a request; undefined when none; an error when several (§4.3 check 1). */
export function dpopHeader(deps: Deps, request: Request, at: ProofTarget["at"]): string | undefined {
  const value = request.headers.get("dpop");
  if (value === null) return undefined;
  // Headers joins repeated fields with ", "; a compact JWS has no comma or space.
  if (/[,\s]/.test(value.trim()) || value.length > PROOF_MAX_LENGTH) throw dpopError(deps, at, "invalid_dpop_proof", "Exactly one DPoP proof (a compact JWS) is allowed");
  return value.trim();
}

type CachedKey = { key: KeyObject; jkt: string };
const keyCache = new Map<string, CachedKey>();

function importProofKey(alg: string, jwk: JWK): CachedKey {
  const id = `${alg}:${JSON.stringify(jwk)}`;
  const hit = keyCache.get(id);
  if (hit) return hit;
  const key = createPublicKey({ key: jwk, format: "jwk" } as JsonWebKeyInput);
  if (key.type !== "public") throw new Error("not a public key");
  if (alg === "PS256" || alg === "RS256") {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < RSA_MIN_BITS) throw new Error("RSA key too short");
  }
  const entry = { key, jkt: thumbprint(jwk) };
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, entry);
  return entry;
}

/** A proof header that passed the checks of §4.3 (typ, alg, public jwk fitting the alg). */
type CheckedHeader = { alg: string; key: CachedKey };
/** Checked headers by their base64url text: a client sends the same header with every proof, so
 *  the second proof of a key skips decoding and checking it (bounded; short headers only). */
const headerCache = new Map<string, CheckedHeader>();
const HEADER_CACHE_MAX_LENGTH = 1200;

function checkedHeader(segment: string, algs: readonly string[], fail: (d: string) => OAuthError): CheckedHeader {
  const hit = headerCache.get(segment);
  if (hit) {
    if (!algs.includes(hit.alg)) throw fail(`The DPoP proof alg must be one of ${algs.join(", ")}`);
    return hit;
  }
  const header = base64urlJsonObject(segment);
  if (!header) throw fail("The DPoP proof header is not JSON");
  if (header.typ !== "dpop+jwt") throw fail("The DPoP proof typ must be dpop+jwt");
  const alg = header.alg;
  if (typeof alg !== "string" || !algs.includes(alg)) throw fail(`The DPoP proof alg must be one of ${algs.join(", ")}`);
  const jwk = header.jwk as JWK | undefined;
  if (!jwk || typeof jwk !== "object" || Array.isArray(jwk)) throw fail("The DPoP proof has no jwk header");
  if (PRIVATE_MEMBERS.some((m) => m in jwk)) throw fail("The DPoP proof jwk must be a public key");
  if (jwk.kty !== KTY_OF[alg] || (alg === "ES256" && jwk.crv !== "P-256") || (alg === "EdDSA" && jwk.crv !== "Ed25519")) throw fail("The DPoP proof jwk does not fit its alg");
  let key: CachedKey;
  try {
    key = importProofKey(alg, jwk);
  } catch {
    throw fail("The DPoP proof jwk is not a valid public key");
  }
  const checked = { alg, key };
  if (segment.length <= HEADER_CACHE_MAX_LENGTH) {
    if (headerCache.size >= KEY_CACHE_MAX) headerCache.delete(headerCache.keys().next().value!);
    headerCache.set(segment, checked);
  }
  return checked;
}

/** RFC 7638 thumbprint (SHA-256), computed synchronously from the required members. */
export function thumbprint(jwk: JWK): string {
  const members: Record<string, string[]> = { EC: ["crv", "kty", "x", "y"], OKP: ["crv", "kty", "x"], RSA: ["e", "kty", "n"] };
  const names = members[jwk.kty ?? ""];
  if (!names) throw new Error("unsupported kty");
  const canonical = `{${names.map((n) => `${JSON.stringify(n)}:${JSON.stringify((jwk as Record<string, unknown>)[n])}`).join(",")}}`;
  return createHash("sha256").update(canonical).digest("base64url");
}

/**
 * Verifies a DPoP proof (§4.3 checks 2-12) and records its jti (check 11's replay rule), or throws
 * the error of the first check it fails.
 */
export async function verifyDpopProof(deps: Deps, proof: string, target: ProofTarget): Promise<VerifiedProof> {
  const fail = (d: string) => dpopError(deps, target.at, "invalid_dpop_proof", d);
  const parts = proof.split(".");
  if (parts.length !== 3) throw fail("The DPoP proof is not a compact JWS");
  const { alg, key } = checkedHeader(parts[0]!, target.algs ?? DPOP_ALGS, fail);
  // The signature with the cached key and the algorithm checked above, on a helper thread
  // (lib/crypto-threads.ts: the check is most of a proof's cost; the event loop serves meanwhile).
  if (!/^[A-Za-z0-9_-]+$/.test(parts[2]!)) throw fail("The DPoP proof signature is invalid");
  const valid = await verifyOnThread(alg as JwsAlg, key.key, `${parts[0]}.${parts[1]}`, parts[2]!);
  if (!valid) throw fail("The DPoP proof signature is invalid");
  const claims = base64urlJsonObject(parts[1]!);
  if (!claims) throw fail("The DPoP proof payload is not JSON");
  const { jti, htm, htu, iat, nonce, ath } = claims;
  if (typeof jti !== "string" || !jti || jti.length > JTI_MAX_LENGTH) throw fail("The DPoP proof needs a jti");
  if (htm !== target.method) throw fail("The DPoP proof htm does not match the request method");
  if (typeof htu !== "string" || (htu !== target.url && normaliseHtu(htu) !== normaliseHtu(target.url))) throw fail("The DPoP proof htu does not match the request URL");
  if (typeof iat !== "number" || !Number.isFinite(iat)) throw fail("The DPoP proof needs an iat");
  const now = Date.now() / 1000;
  if (Math.abs(now - iat) > DPOP_IAT_WINDOW_SECONDS) throw fail("The DPoP proof iat is outside the accepted window");
  if (target.accessToken !== undefined) {
    const expected = createHash("sha256").update(target.accessToken).digest("base64url");
    if (typeof ath !== "string" || !safeEqual(ath, expected)) throw fail("The DPoP proof ath does not match the access token");
  }
  if (deps.config.dpopNonce && (typeof nonce !== "string" || !nonceValid(deps, nonce))) {
    throw dpopError(deps, target.at, "use_dpop_nonce", "Use the server-provided DPoP nonce");
  }
  if (!(await recordJti(deps, `${key.jkt}.${jti}`))) throw fail("The DPoP proof was already used");
  return { jkt: key.jkt };
}

/** Micro-batched jti writes, one loader per pool; keys pending in this process are replays at once. */
const loaders = new WeakMap<object, BatchLoader<string, true>>();
const pending = new Set<string>();

async function recordJti(deps: Deps, raw: string): Promise<boolean> {
  const hash = createHash("sha256").update(raw).digest("base64url");
  if (pending.has(hash)) return false;
  let loader = loaders.get(deps.sql);
  if (!loader) {
    const sql = deps.sql;
    loader = new BatchLoader<string, true>(async (keys) => {
      const replays = await recordDpopJtis(sql, keys, 2 * DPOP_IAT_WINDOW_SECONDS + 5);
      return new Map(keys.filter((k) => !replays.has(k)).map((k) => [k, true as const]));
    }, { maxBatch: 1000, maxInFlight: 2 });
    loaders.set(deps.sql, loader);
  }
  pending.add(hash);
  try {
    return (await loader.load(hash)) === true;
  } finally {
    pending.delete(hash);
  }
}
