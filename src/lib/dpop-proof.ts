// Making DPoP proofs (RFC 9449 §4.2) as a client does: the admin CLI binds its own tokens with
// them, and the benchmark and tests play DPoP clients. The server's checks are oauth/dpop.ts.
import { createHash } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from "jose";
import { randomToken } from "./crypto";

export type DpopAlg = "ES256" | "EdDSA" | "PS256" | "RS256";

export interface DpopKey {
  alg: DpopAlg;
  privateKey: CryptoKey;
  /** The public JWK sent in every proof's header. */
  publicJwk: JWK;
}

export async function generateDpopKey(alg: DpopAlg = "ES256"): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}) });
  const { kty, crv, x, y, n, e } = await exportJWK(publicKey);
  const publicJwk = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)) as JWK;
  return { alg, privateKey: privateKey as CryptoKey, publicJwk };
}

/** The private JWK of a key (to keep it, e.g. beside the CLI's tokens). */
export async function exportDpopKey(key: DpopKey): Promise<{ alg: DpopAlg; jwk: JWK }> {
  return { alg: key.alg, jwk: await exportJWK(key.privateKey) };
}

export async function importDpopKey(saved: { alg: DpopAlg; jwk: JWK }): Promise<DpopKey> {
  const privateKey = (await importJWK(saved.jwk, saved.alg)) as CryptoKey;
  const { kty, crv, x, y, n, e } = saved.jwk;
  const publicJwk = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)) as JWK;
  return { alg: saved.alg, privateKey, publicJwk };
}

export interface ProofClaims {
  htm: string;
  htu: string;
  /** The access token the proof goes with at a resource (ath, §4.2). */
  accessToken?: string;
  nonce?: string;
}

/** A DPoP proof JWT for one request. */
export function createDpopProof(key: DpopKey, c: ProofClaims): Promise<string> {
  const u = new URL(c.htu);
  u.search = "";
  u.hash = "";
  const payload: Record<string, unknown> = { htm: c.htm, htu: u.href, jti: randomToken(16) };
  if (c.accessToken) payload.ath = createHash("sha256").update(c.accessToken).digest("base64url");
  if (c.nonce) payload.nonce = c.nonce;
  return new SignJWT(payload).setProtectedHeader({ typ: "dpop+jwt", alg: key.alg, jwk: key.publicJwk }).setIssuedAt().sign(key.privateKey);
}
