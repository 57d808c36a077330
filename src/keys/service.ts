// Signing keys: generation, encryption at rest (AES-256-GCM, key derived from JWT_SECRET_KEY),
// rotation without downtime (a `next` key is published before it signs; a retired key stays
// published until every token it signed has expired) and a per-process cache that every worker
// and node refreshes within KEY_CACHE_SECONDS, or at once when it meets an unknown kid.
import { exportJWK, generateKeyPair, calculateJwkThumbprint, type JWK } from "jose";
import type { Sql } from "../db/sql";
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { sign as signOnThread } from "../lib/crypto-threads";
import { decrypt, deriveKey, encrypt } from "../lib/crypto";
import * as store from "./store";
import type { KeyAlg, KeyRow } from "./store";
import { metrics } from "../metrics/index";

export const KEY_CACHE_SECONDS = 30;
export const ALGORITHMS: KeyAlg[] = ["RS256", "ES256", "EdDSA"];
/** The longest lifetime any token may have (config and per-client lifetimes are capped here). */
export const MAX_TOKEN_LIFETIME_SECONDS = 86400;
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

export interface LoadedKey {
  kid: string;
  alg: KeyAlg;
  state: store.KeyState;
  publicJwk: JWK;
  /** The private key for node:crypto (signCompactJws signs on a helper thread). */
  privateKeyObject?: KeyObject;
  /** The public key for node:crypto (tokens/jwt-kind.ts verifies on a helper thread). */
  publicKeyObject: KeyObject;
}

export interface RevokedKey {
  kid: string;
  alg: KeyAlg;
  previousState: store.KeyState;
  /** It was revoked before this call (nothing changed). */
  already: boolean;
  /** The key that became active in its place (when the active key was revoked). */
  activated?: string;
  /** The fresh next key made in its place. */
  next?: string;
}

export class KeyDecryptionError extends Error {
  constructor() {
    super("The signing keys in the database cannot be decrypted with this JWT_SECRET_KEY. Use the JWT_SECRET_KEY they were created with (it may not change), or restore it from your secret store.");
    this.name = "KeyDecryptionError";
  }
}

export interface KeyServiceOptions {
  /** Seconds a retired key stays published: at least the longest token lifetime. */
  publishRetiredSeconds: number;
}

export class KeyService {
  private readonly kek: Buffer;
  private cache: LoadedKey[] = [];
  private loadedAt = 0;
  private loading?: Promise<void>;
  private lastForcedRefresh = 0;
  private jwksCache?: { body: string; etag: string };
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly sql: Sql,
    jwtSecretKey: string,
    private readonly opts: KeyServiceOptions,
  ) {
    this.kek = deriveKey(jwtSecretKey, "signing-key-encryption");
  }

  /**
   * Makes sure every algorithm has an active and a next key; safe with many workers. All three
   * algorithms are kept ready (clients may pick their ID-token algorithm); `algs` come first.
   */
  async ensureKeys(algs: KeyAlg[]): Promise<void> {
    const needed = [...new Set<KeyAlg>(["RS256", ...algs, ...ALGORITHMS])];
    await this.sql.begin(async (tx) => {
      await store.lockKeys(tx);
      const live = await store.listLiveKeys(tx);
      for (const alg of needed) {
        if (!live.some((k) => k.alg === alg && k.state === "active")) await this.createKey(tx, alg, "active");
        if (!live.some((k) => k.alg === alg && k.state === "next")) await this.createKey(tx, alg, "next");
      }
    });
    await this.refresh();
  }

  /** Rotation: next -> active, active -> retired (still published), and a fresh next key. */
  async rotate(alg: KeyAlg): Promise<{ activated: string; next: string; retired: string[] }> {
    const result = await this.sql.begin(async (tx) => {
      await store.lockKeys(tx);
      return this.rotateLocked(tx, alg);
    });
    metrics.inc("authly_key_rotations_total", { alg });
    await this.refresh();
    return result;
  }

  /**
   * Scheduled rotation: rotates every algorithm whose active key has been active for at least
   * `intervalDays`. Many workers and nodes may call it at once; the lock and the re-check inside
   * it make exactly one of them rotate.
   */
  async rotateDue(intervalDays: number): Promise<{ alg: KeyAlg; activated: string; next: string; retired: string[] }[]> {
    if (!(intervalDays > 0)) return [];
    const done = await this.sql.begin(async (tx) => {
      await store.lockKeys(tx);
      const live = await store.listLiveKeys(tx);
      const cutoff = Date.now() - intervalDays * 86400_000;
      const out: { alg: KeyAlg; activated: string; next: string; retired: string[] }[] = [];
      for (const k of live) {
        if (k.state !== "active" || (k.activated_at ?? k.created_at).getTime() > cutoff) continue;
        out.push({ alg: k.alg, ...(await this.rotateLocked(tx, k.alg)) });
      }
      return out;
    });
    for (const r of done) metrics.inc("authly_key_rotations_total", { alg: r.alg });
    if (done.length) await this.refresh();
    return done;
  }

  /** Checks for due rotations every `checkSeconds` (timer does not keep the process alive). */
  startRotationSchedule(intervalDays: number, onRotate?: (rotated: { alg: KeyAlg; activated: string }[]) => void, checkSeconds = 3600): () => void {
    if (!(intervalDays > 0)) return () => {};
    const tick = () => {
      this.rotateDue(intervalDays).then((r) => r.length && onRotate?.(r), () => {});
    };
    const timer = setInterval(tick, checkSeconds * 1000);
    (timer as { unref?: () => void }).unref?.();
    tick();
    return () => clearInterval(timer);
  }

  private async rotateLocked(tx: Parameters<typeof store.insertKey>[0], alg: KeyAlg): Promise<{ activated: string; next: string; retired: string[] }> {
    const live = await store.listLiveKeys(tx);
    const retired = live.filter((k) => k.alg === alg && k.state === "active").map((k) => k.kid);
    let next = live.find((k) => k.alg === alg && k.state === "next")?.kid;
    if (!next) next = await this.createKey(tx, alg, "next");
    await store.retireActive(tx, alg, Math.max(this.opts.publishRetiredSeconds, MAX_TOKEN_LIFETIME_SECONDS + 300));
    await store.activateKey(tx, next);
    const fresh = await this.createKey(tx, alg, "next");
    return { activated: next, next: fresh, retired };
  }

  /**
   * Revokes a key (compromise): it leaves the JWKS and verifies nothing any more, on this process at
   * once; other processes and nodes drop it when a token signed by it reaches their database check
   * (accessTokenLive, verificationKeyChecked) and at their next cache reload (KEY_CACHE_SECONDS).
   * An active key is replaced at once by its algorithm's next key (and a fresh next key is made),
   * so that signing never stops; a revoked next key is replaced by a fresh one. Undefined when no
   * such key exists; `already` when it was revoked before.
   */
  async revoke(kid: string): Promise<RevokedKey | undefined> {
    const result = await this.sql.begin(async (tx): Promise<RevokedKey | undefined> => {
      await store.lockKeys(tx);
      const target = await store.findKey(tx, kid);
      if (!target) return undefined;
      if (target.state === "revoked") return { kid, alg: target.alg, previousState: "revoked", already: true };
      const live = await store.listLiveKeys(tx);
      await store.revokeKey(tx, kid);
      const out: RevokedKey = { kid, alg: target.alg, previousState: target.state, already: false };
      if (target.state === "active") {
        let next = live.find((k) => k.alg === target.alg && k.state === "next")?.kid;
        if (!next) next = await this.createKey(tx, target.alg, "next");
        await store.activateKey(tx, next);
        out.activated = next;
        out.next = await this.createKey(tx, target.alg, "next");
      } else if (target.state === "next") {
        out.next = await this.createKey(tx, target.alg, "next");
      }
      return out;
    });
    if (result && !result.already) await this.refresh();
    return result;
  }

  /**
   * verificationKey, but the key's state is read from the database first, so that a key revoked by
   * another node is refused at once (and drops out of this process's cache). For rare paths that
   * can afford a query (id_token_hint); access tokens get the same check inside accessTokenLive.
   */
  async verificationKeyChecked(kid: string): Promise<LoadedKey | undefined> {
    const state = await store.keyState(this.sql, kid);
    if (state === "revoked" || state === undefined) {
      if (this.cache.some((k) => k.kid === kid)) await this.refresh();
      return undefined;
    }
    return this.verificationKey(kid);
  }

  /** Called when the database says a cached key was revoked elsewhere: reload now. */
  async noteRevoked(kid: string): Promise<void> {
    if (this.cache.some((k) => k.kid === kid)) await this.refresh();
  }

  async listKeys(): Promise<KeyRow[]> {
    return store.listAllKeys(this.sql);
  }

  private async createKey(tx: Parameters<typeof store.insertKey>[0], alg: KeyAlg, state: "active" | "next"): Promise<string> {
    // The kid is the key's RFC 7638 thumbprint (base64url). One in 64 starts with "-", which a
    // command line takes for an option (`authly admin key revoke <kid>`): such a key is drawn again.
    let priv: JWK;
    let pub: JWK;
    let kid: string;
    do {
      const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "RS256" ? { modulusLength: 2048 } : {}) });
      priv = await exportJWK(privateKey);
      pub = publicOnly(priv) as JWK;
      kid = await calculateJwkThumbprint(pub);
    } while (kid.startsWith("-"));
    const publicJwk = { ...pub, kid, alg, use: "sig" };
    await store.insertKey(tx, {
      kid,
      alg,
      state,
      public_jwk: publicJwk,
      private_jwk_encrypted: encrypt(this.kek, JSON.stringify(priv), kid),
    });
    return kid;
  }

  /** Reloads the cache from the database. Throws KeyDecryptionError for a wrong JWT_SECRET_KEY. */
  async refresh(): Promise<void> {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      const rows = await store.listLiveKeys(this.sql);
      const loaded: LoadedKey[] = [];
      for (const row of rows) {
        const known = this.cache.find((k) => k.kid === row.kid);
        if (known) {
          loaded.push({ ...known, state: row.state });
          continue;
        }
        let priv: JWK;
        try {
          priv = JSON.parse(decrypt(this.kek, row.private_jwk_encrypted, row.kid)) as JWK;
        } catch {
          throw new KeyDecryptionError();
        }
        loaded.push({
          kid: row.kid,
          alg: row.alg,
          state: row.state,
          publicJwk: row.public_jwk as JWK,
          privateKeyObject: createPrivateKey({ key: priv, format: "jwk" } as Parameters<typeof createPrivateKey>[0]),
          publicKeyObject: createPublicKey({ key: row.public_jwk, format: "jwk" } as Parameters<typeof createPublicKey>[0]),
        });
      }
      this.cache = loaded;
      this.jwksCache = undefined;
      this.loadedAt = Date.now();
      for (const listener of this.listeners) listener();
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  /**
   * The cached keys; past KEY_CACHE_SECONDS a reload starts in the background and the current set
   * is used meanwhile (stale-while-revalidate). Signing never waits for a pool connection: it runs
   * inside callers' transactions, and with every connection held by such a transaction a blocking
   * reload would deadlock the pool.
   */
  private async fresh(): Promise<LoadedKey[]> {
    if (Date.now() - this.loadedAt > KEY_CACHE_SECONDS * 1000) {
      if (!this.cache.length) await this.refresh();
      else if (!this.loading) this.refresh().catch(() => {});
    }
    return this.cache;
  }

  /** The active key of an algorithm, for signing. */
  async signingKey(alg: KeyAlg): Promise<LoadedKey> {
    let key = (await this.fresh()).find((k) => k.alg === alg && k.state === "active");
    if (!key) {
      await this.refresh();
      key = this.cache.find((k) => k.alg === alg && k.state === "active");
    }
    if (!key?.privateKeyObject) throw new Error(`no active ${alg} signing key`);
    return key;
  }

  /** A published key by kid, for verifying; an unknown kid forces one refresh (rate-limited). */
  async verificationKey(kid: string): Promise<LoadedKey | undefined> {
    const found = (await this.fresh()).find((k) => k.kid === kid);
    if (found) return found;
    if (Date.now() - this.lastForcedRefresh > 1000) {
      this.lastForcedRefresh = Date.now();
      await this.refresh();
      return this.cache.find((k) => k.kid === kid);
    }
    return undefined;
  }

  /** The public JWKS: next, active and still-published retired keys, public members only. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.fresh()).map((k) => publicOnly(k.publicJwk)) };
  }

  /** The serialised JWKS when the cache is fresh, without waiting (the hot path of the route). */
  cachedJwksDocument(): { body: string; etag: string } | undefined {
    return Date.now() - this.loadedAt <= KEY_CACHE_SECONDS * 1000 ? this.jwksCache : undefined;
  }

  /** Calls `listener` after every reload of the key cache; returns the unsubscribe function. */
  onRefresh(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The JWKS serialised once per cache load, with an ETag (for GET /.well-known/jwks.json). */
  async jwksDocument(): Promise<{ body: string; etag: string }> {
    const keys = await this.fresh();
    if (!this.jwksCache) {
      const body = JSON.stringify({ keys: keys.map((k) => publicOnly(k.publicJwk)) });
      this.jwksCache = { body, etag: `"${new Bun.CryptoHasher("sha256").update(body).digest("base64url").slice(0, 27)}"` };
    }
    return this.jwksCache;
  }
}

/**
 * A compact JWS (RFC 7515 §7.1) over a JSON payload: every token this server signs (access, ID and
 * logout tokens). The signature is computed with node:crypto on the process's signature helper
 * thread (lib/crypto-threads.ts): ES256 ~20 µs, EdDSA ~13 µs, RS256 ~1 ms here, none of it on the
 * event loop.
 */
export async function signCompactJws(key: LoadedKey, header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
  const input = `${b64json({ ...header, alg: key.alg, kid: key.kid })}.${b64json(payload)}`;
  if (!key.privateKeyObject) throw new Error(`key ${key.kid} has no private key to sign with`);
  // On a helper thread (lib/crypto-threads.ts): the event loop keeps serving requests meanwhile.
  return `${input}.${await signOnThread(key.alg, key.privateKeyObject, input)}`;
}

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export function publicOnly(jwk: JWK): JWK {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(jwk)) if (!PRIVATE_MEMBERS.includes(k)) out[k] = v;
  return out as JWK;
}
