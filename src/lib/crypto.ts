// Small crypto helpers shared by every domain: random opaque values, keyed hashes of secrets,
// constant-time comparison, and AES-256-GCM for data encrypted at rest.
import { timingSafeEqual, createHmac, hkdfSync, createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/** An unguessable opaque value: `bytes` random bytes, base64url (32 bytes = 256 bits). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** HMAC-SHA-256 of a high-entropy secret with a server pepper, base64url. Fast on purpose: the
 *  secret has 256 bits of entropy, so a slow password hash would only cost throughput. */
export function hashSecret(pepper: string | Uint8Array, value: string): string {
  return createHmac("sha256", pepper).update(value, "utf8").digest("base64url");
}

/** Constant-time string comparison (length leaks, content does not). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** Derives a 256-bit key for one purpose from a configured secret (HKDF-SHA-256). */
export function deriveKey(secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), Buffer.from("authly"), Buffer.from(purpose), 32));
}

/** AES-256-GCM: returns `v1.<iv>.<tag>.<ciphertext>` in base64url parts. */
export function encrypt(key: Buffer, plaintext: string, aad = ""): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
}

/** Throws when the key is wrong or the data was changed. */
export function decrypt(key: Buffer, sealed: string, aad = ""): string {
  const [v, iv, tag, ct] = sealed.split(".");
  if (v !== "v1" || !iv || !tag || ct === undefined) throw new Error("unknown ciphertext format");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ct, "base64url")), decipher.final()]).toString("utf8");
}

/** SHA-256 base64url (for values that are not secrets but must not be stored as-is, e.g. jti). */
export function sha256(value: string): string {
  return new Bun.CryptoHasher("sha256").update(value).digest("base64url");
}
