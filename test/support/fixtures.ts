// Test data written straight to the database (clients, users, authorization codes) and small
// helpers for form posts and client credentials. Secrets are hashed the way the server does.
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import type { Deps } from "../../src/deps";
import { hashClientSecret, generateClientSecret } from "../../src/clients/secrets";
import type { ClientRecord } from "../../src/clients/model";
import { hashPassword, passwordParams } from "../../src/accounts/password";
import type { UserRecord } from "../../src/accounts/model";
import { hashSecret, randomToken } from "../../src/lib/crypto";
import { s256Challenge } from "../../src/oauth/pkce";

export interface ClientFixture {
  client_id: string;
  client_type?: "public" | "confidential";
  token_endpoint_auth_method?: "client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none";
  redirect_uris?: string[];
  grant_types?: string[];
  scopes?: string[];
  access_token_ttl?: number | null;
  refresh_token_ttl?: number | null;
  is_first_party?: boolean;
  is_active?: boolean;
  jwks?: { keys: JWK[] } | null;
  jwks_uri?: string | null;
  secret?: string;
}

export interface CreatedClient {
  clientId: string;
  secret?: string;
  record: ClientRecord;
}

export async function createClient(deps: Deps, f: ClientFixture): Promise<CreatedClient> {
  const method = f.token_endpoint_auth_method ?? (f.client_type === "public" ? "none" : "client_secret_basic");
  const type = method === "none" ? "public" : "confidential";
  const secret = type === "confidential" && method !== "private_key_jwt" ? (f.secret ?? generateClientSecret()) : undefined;
  const [record] = await deps.sql<ClientRecord[]>`
    INSERT INTO clients (client_id, client_type, client_name, secret_hash, redirect_uris, grant_types, scopes,
      token_endpoint_auth_method, jwks, jwks_uri, access_token_ttl, refresh_token_ttl, is_first_party, is_active, require_consent)
    VALUES (${f.client_id}, ${type}, ${f.client_id}, ${secret ? hashClientSecret(deps, secret) : null},
      ${f.redirect_uris ?? ["https://rp.example/cb"]}, ${f.grant_types ?? ["authorization_code", "refresh_token"]},
      ${f.scopes ?? ["openid", "profile", "email", "offline_access", "api:read", "api:write"]}, ${method},
      ${f.jwks ? deps.sql.json(f.jwks as never) : null}, ${f.jwks_uri ?? null}, ${f.access_token_ttl ?? null},
      ${f.refresh_token_ttl ?? null}, ${f.is_first_party ?? false}, ${f.is_active ?? true}, false)
    RETURNING *`;
  return { clientId: f.client_id, secret, record: record! };
}

export async function createUser(deps: Deps, u: { username: string; password?: string; is_admin?: boolean; is_active?: boolean; email?: string }): Promise<UserRecord> {
  const hash = u.password ? await hashPassword(u.password, passwordParams(deps.config)) : null;
  const [row] = await deps.sql<UserRecord[]>`
    INSERT INTO users (username, email, email_verified, password_hash, is_admin, is_active, name)
    VALUES (${u.username}, ${u.email ?? `${u.username}@example.test`}, true, ${hash}, ${u.is_admin ?? false}, ${u.is_active ?? true}, ${u.username})
    RETURNING *`;
  return row!;
}

export interface CodeFixture {
  clientId: string;
  userId: string;
  redirectUri?: string;
  scope?: string;
  nonce?: string | null;
  ttlSeconds?: number;
  verifier?: string;
  challenge?: string;
  method?: string;
  sessionId?: string | null;
}

/** Writes an authorization code the way the front channel does (docs/contracts.md). */
export async function createCode(deps: Deps, c: CodeFixture): Promise<{ code: string; verifier: string; redirectUri: string }> {
  const code = randomToken(32);
  const verifier = c.verifier ?? randomToken(32);
  const redirectUri = c.redirectUri ?? "https://rp.example/cb";
  await deps.sql`
    INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri, scope, nonce, code_challenge,
      code_challenge_method, session_id, auth_time, amr, expires_at)
    VALUES (${hashSecret(deps.peppers.tokens, code)}, ${c.clientId}, ${c.userId}, ${redirectUri}, ${c.scope ?? "openid profile offline_access"},
      ${c.nonce === undefined ? "n-0S6_WzA2Mj" : c.nonce}, ${c.challenge ?? s256Challenge(verifier)}, ${c.method ?? "S256"},
      ${c.sessionId ?? null}, now() - interval '5 seconds', ${["pwd"]}, now() + make_interval(secs => ${c.ttlSeconds ?? 60}))`;
  return { code, verifier, redirectUri };
}

export function form(params: Record<string, string | undefined>): { body: string; headers: Record<string, string> } {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) p.append(k, v);
  return { body: p.toString(), headers: { "Content-Type": "application/x-www-form-urlencoded" } };
}

/** RFC 6749 §2.3.1: form-urlencode id and secret, then Base64 of "id:secret". */
export function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString("base64")}`;
}

/** A POST init with a form body and optional Basic credentials. */
export function post(params: Record<string, string | undefined>, auth?: { id: string; secret: string }, headers: Record<string, string> = {}): RequestInit {
  const f = form(params);
  return { method: "POST", body: f.body, headers: { ...f.headers, ...(auth ? { Authorization: basic(auth.id, auth.secret) } : {}), ...headers } };
}

/** A key pair for private_key_jwt clients and a signer for their assertions (RFC 7523). */
export async function assertionKey(alg = "ES256"): Promise<{ jwks: { keys: JWK[] }; sign(clientId: string, aud: string, opts?: { jti?: string; expSeconds?: number }): Promise<string> }> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: randomToken(8), alg, use: "sig" };
  return {
    jwks: { keys: [jwk] },
    sign: (clientId, aud, opts = {}) =>
      new SignJWT({})
        .setProtectedHeader({ alg, kid: jwk.kid })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + (opts.expSeconds ?? 60))
        .setJti(opts.jti ?? randomToken(16))
        .sign(privateKey as CryptoKey),
  };
}
