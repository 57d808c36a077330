// private_key_jwt to an upstream token endpoint (RFC 7523 §2.2 and §3, OIDC Core §9): every provider
// has its own key pair, the private JWK sealed at rest (AES-256-GCM under a key derived from
// JWT_SECRET_KEY, like the signing keys; the slug and kid are the associated data), the public JWK
// served at /federation/jwks/<slug>. A key per provider means an assertion made for one provider
// can never be presented to another (the audience-injection class of attacks needs a shared key).
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import type { Deps } from "../../deps";
import { decrypt, deriveKey, encrypt, randomToken } from "../../lib/crypto";
import type { ClientKeyAlg, IdpRecord } from "./model";

/** Lifetime of one client assertion: it is made for one request, sent at once. */
export const ASSERTION_TTL_SECONDS = 60;

export interface ClientKeyColumns {
  client_key_kid: string;
  client_key_alg: ClientKeyAlg;
  client_key_public: Record<string, unknown>;
  client_key_sealed: string;
}

function keyKey(deps: Deps): Buffer {
  return deriveKey(deps.config.jwtSecretKey!, "upstream-client-key");
}

const aad = (slug: string, kid: string) => `idp-key:${slug}:${kid}`;

/** A fresh key pair for a provider: the public JWK (kid = its RFC 7638 thumbprint) and the sealed private one. */
export async function generateClientKey(deps: Deps, slug: string, alg: ClientKeyAlg): Promise<ClientKeyColumns> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "RS256" ? { modulusLength: 2048 } : {}) });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const priv = await exportJWK(privateKey);
  return {
    client_key_kid: kid,
    client_key_alg: alg,
    client_key_public: { ...pub, kid, alg, use: "sig" },
    client_key_sealed: encrypt(keyKey(deps), JSON.stringify({ ...priv, kid, alg }), aad(slug, kid)),
  };
}

/** The JWK Set a provider fetches to verify our assertions (public parts only). */
export function publicJwks(idp: IdpRecord): { keys: Record<string, unknown>[] } {
  return { keys: idp.client_key_public ? [idp.client_key_public] : [] };
}

/**
 * The client assertion of one token request (RFC 7523 §3): iss = sub = our client_id, aud = the
 * provider's token endpoint (OIDC Core §9), a fresh jti, iat, exp 60 s later.
 */
export async function signClientAssertion(deps: Deps, idp: IdpRecord): Promise<string> {
  if (!idp.client_key_sealed || !idp.client_key_kid || !idp.client_key_alg) throw new Error(`identity provider ${idp.slug} has no client key`);
  const jwk = JSON.parse(decrypt(keyKey(deps), idp.client_key_sealed, aad(idp.slug, idp.client_key_kid))) as JWK;
  const key = await importJWK(jwk, idp.client_key_alg);
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: idp.client_key_alg, kid: idp.client_key_kid, typ: "JWT" })
    .setIssuer(idp.client_id)
    .setSubject(idp.client_id)
    .setAudience(idp.token_endpoint)
    .setIssuedAt(now)
    .setExpirationTime(now + ASSERTION_TTL_SECONDS)
    .setJti(randomToken(24))
    .sign(key);
}
