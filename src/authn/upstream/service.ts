// Upstream identity provider administration: register an OpenID Connect provider by its issuer
// (OpenID Connect Discovery 1.0 §4, fetched through safeFetch) or a plain OAuth 2.0 provider by
// its endpoints; the client secret is sealed (AES-256-GCM) at rest. Every write is audited.
import type { Deps } from "../../deps";
import { auditAdmin, type Actor } from "../../audit/service";
import { getUser } from "../../accounts/admin-service";
import { NotFoundError, ValidationError } from "../../errors";
import { decrypt, deriveKey, encrypt } from "../../lib/crypto";
import { OutboundError, outboundPolicy, safeFetch } from "../../lib/outbound";
import { assertSchema, Problems } from "../../lib/validate";
import { generateClientKey } from "./client-key";
import { IdpCreate, IdpUpdate, mappingProblem, toIdp, type Idp, type IdpRecord, type IdpUrls, type UpstreamAuthMethod } from "./model";
import * as store from "./store";
import { forgetProviders } from "./buttons";

/** Discovery documents and upstream answers are small; bigger ones are refused. */
export const UPSTREAM_MAX_BYTES = 64 * 1024;
/** The whole of one request to an upstream (DNS, connect, answer). */
export const UPSTREAM_TIMEOUT_MS = 5_000;

export function callbackUrl(deps: Deps): string {
  return `${deps.config.issuer.replace(/\/$/, "")}/federation/callback`;
}

/** What an admin registers at the provider: our redirect URI, our JWK Set (private_key_jwt) and our
 *  back-channel logout URI (both per provider). */
export function idpUrls(deps: Deps, slug: string): IdpUrls {
  const base = deps.config.issuer.replace(/\/$/, "");
  return { redirectUri: callbackUrl(deps), jwksUri: `${base}/federation/jwks/${slug}`, backchannelLogoutUri: `${base}/federation/backchannel-logout/${slug}` };
}

const view = (deps: Deps, r: IdpRecord): Idp => toIdp(r, idpUrls(deps, r.slug));

/** Why an authentication method cannot be used with (or without) a client secret, or undefined. */
function authMethodProblem(method: UpstreamAuthMethod, hasSecret: boolean): string | undefined {
  if ((method === "client_secret_basic" || method === "client_secret_post") && !hasSecret) return `${method} needs a client_secret`;
  if (method === "none" && hasSecret) return "none (a public client) cannot have a client_secret";
  return undefined;
}

function sealingKey(deps: Deps): Buffer {
  return deriveKey(deps.config.jwtSecretKey!, "upstream-client-secret");
}

export function sealSecret(deps: Deps, slug: string, secret: string): string {
  return encrypt(sealingKey(deps), secret, `idp:${slug}`);
}

export function openSecret(deps: Deps, idp: IdpRecord): string | undefined {
  return idp.client_secret_sealed ? decrypt(sealingKey(deps), idp.client_secret_sealed, `idp:${idp.slug}`) : undefined;
}

/** Why a URL cannot be an upstream endpoint: https, or http only in development (dev mode allows a
 *  loopback upstream; safeFetch still applies its address rules when the server calls it). */
function endpointProblem(deps: Deps, value: string | undefined): string | undefined {
  if (value === undefined) return "is required";
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return "must be an absolute URL";
  }
  if (u.hash || u.username || u.password) return "must not have a fragment or credentials";
  if (u.protocol === "https:") return undefined;
  if (u.protocol === "http:" && outboundPolicy(deps.config).allowLoopback) return undefined;
  return "must be an https URL";
}

interface Discovered {
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string | null;
  jwks_uri: string;
}

/** OpenID Connect Discovery 1.0 §4: the provider's metadata; its issuer must be the one asked for (§4.3). */
export async function discover(deps: Deps, issuer: string): Promise<Discovered> {
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  let doc: Record<string, unknown>;
  try {
    const res = await safeFetch(url, { headers: { Accept: "application/json" } }, { ...outboundPolicy(deps.config), maxBytes: UPSTREAM_MAX_BYTES, timeoutMs: UPSTREAM_TIMEOUT_MS });
    if (res.status !== 200) throw new ValidationError("The provider's discovery document could not be read", [{ field: "issuer", message: `${url} answered HTTP ${res.status}` }]);
    doc = JSON.parse(new TextDecoder().decode(res.body));
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    const why = err instanceof OutboundError ? err.message : "the answer is not a JSON document";
    throw new ValidationError("The provider's discovery document could not be read", [{ field: "issuer", message: why }]);
  }
  const p = new Problems();
  if (doc.issuer !== issuer) p.add("issuer", `the discovery document names issuer '${String(doc.issuer).slice(0, 200)}', not this one (OpenID Connect Discovery §4.3)`);
  for (const k of ["authorization_endpoint", "token_endpoint", "jwks_uri"] as const) {
    const problem = typeof doc[k] === "string" ? endpointProblem(deps, doc[k] as string) : "is missing";
    if (problem) p.add("issuer", `the discovery document's ${k} ${problem}`);
  }
  const methods = doc.code_challenge_methods_supported;
  if (Array.isArray(methods) && !methods.includes("S256")) p.add("issuer", "the provider does not support PKCE with S256 (RFC 7636)");
  p.throwIfAny("The provider cannot be used");
  const ui = typeof doc.userinfo_endpoint === "string" && !endpointProblem(deps, doc.userinfo_endpoint) ? doc.userinfo_endpoint : null;
  return { authorization_endpoint: doc.authorization_endpoint as string, token_endpoint: doc.token_endpoint as string, userinfo_endpoint: ui, jwks_uri: doc.jwks_uri as string };
}

export async function createIdp(deps: Deps, actor: Actor, body: unknown): Promise<Idp> {
  const input = assertSchema<IdpCreate>(IdpCreate, body, (p) => {
    const b = (body && typeof body === "object" ? body : {}) as IdpCreate;
    if (b.claim_mapping) {
      const m = mappingProblem(b.claim_mapping);
      if (m) p.add("claim_mapping", m);
    }
    if (b.kind === "oidc") {
      const problem = endpointProblem(deps, b.issuer);
      if (problem) p.add("issuer", problem);
      for (const k of ["authorization_endpoint", "token_endpoint"] as const) if (b[k] !== undefined) p.add(k, "comes from the issuer's discovery document for an OpenID Connect provider");
    } else if (b.kind === "oauth2") {
      for (const k of ["authorization_endpoint", "token_endpoint", "userinfo_endpoint"] as const) {
        const problem = endpointProblem(deps, b[k]);
        if (problem) p.add(k, problem);
      }
      if (!b.claim_mapping?.subject) p.add("claim_mapping", "a plain OAuth 2.0 provider needs 'subject' (the userinfo field naming the account, e.g. GitHub's 'id')");
      if (b.issuer !== undefined && endpointProblem(deps, b.issuer)) p.add("issuer", "must be an https URL");
    }
    if (b.token_endpoint_auth_method) {
      const problem = authMethodProblem(b.token_endpoint_auth_method, typeof b.client_secret === "string");
      if (problem) p.add("token_endpoint_auth_method", problem);
    }
    if (b.client_key_alg !== undefined && b.token_endpoint_auth_method !== "private_key_jwt") p.add("client_key_alg", "only with token_endpoint_auth_method private_key_jwt");
  });
  const method: UpstreamAuthMethod = input.token_endpoint_auth_method ?? (input.client_secret ? "client_secret_basic" : "none");
  const key = method === "private_key_jwt" ? await generateClientKey(deps, input.slug, input.client_key_alg ?? "RS256") : undefined;
  const ends = input.kind === "oidc"
    ? await discover(deps, input.issuer!)
    : { authorization_endpoint: input.authorization_endpoint!, token_endpoint: input.token_endpoint!, userinfo_endpoint: input.userinfo_endpoint!, jwks_uri: null };
  return deps.sql.begin(async (tx) => {
    const row = await store.insertIdp(tx, {
      slug: input.slug,
      name: input.name.trim(),
      kind: input.kind,
      issuer: input.issuer ?? null,
      ...ends,
      client_id: input.client_id,
      client_secret_sealed: input.client_secret ? sealSecret(deps, input.slug, input.client_secret) : null,
      token_endpoint_auth_method: method,
      client_key_kid: key?.client_key_kid ?? null,
      client_key_alg: key?.client_key_alg ?? null,
      client_key_public: key?.client_key_public ?? null,
      client_key_sealed: key?.client_key_sealed ?? null,
      scopes: input.scopes ?? (input.kind === "oidc" ? ["openid", "profile", "email"] : []),
      claim_mapping: input.claim_mapping ?? {},
      create_users: input.create_users ?? true,
      is_enabled: input.is_enabled ?? true,
    });
    await auditAdmin(deps, tx, actor, "idp.create", { type: "idp", id: row.slug }, { kind: row.kind, issuer: row.issuer, token_endpoint_auth_method: method, ...(key ? { client_key_kid: key.client_key_kid } : {}) });
    return view(deps, row);
  }).finally(() => forgetProviders(deps));
}

async function mustFind(deps: Deps, slug: string): Promise<IdpRecord> {
  const row = await store.findIdpBySlug(deps.sql, slug);
  if (!row) throw new NotFoundError(`Identity provider '${slug.slice(0, 64)}' not found`);
  return row;
}

export async function listIdps(deps: Deps): Promise<{ idps: Idp[]; total: number }> {
  const rows = await store.listIdps(deps.sql, false);
  return { idps: rows.map((r) => view(deps, r)), total: rows.length };
}

export async function getIdp(deps: Deps, slug: string): Promise<Idp> {
  return view(deps, await mustFind(deps, slug));
}

export async function updateIdp(deps: Deps, actor: Actor, slug: string, body: unknown): Promise<Idp> {
  const patch = assertSchema<IdpUpdate>(IdpUpdate, body, (p) => {
    const m = ((body && typeof body === "object" ? body : {}) as IdpUpdate).claim_mapping;
    if (m && mappingProblem(m)) p.add("claim_mapping", mappingProblem(m)!);
  });
  const cur = await mustFind(deps, slug);
  if (cur.kind === "oauth2" && patch.claim_mapping && !patch.claim_mapping.subject) throw new ValidationError("Invalid request", [{ field: "claim_mapping", message: "a plain OAuth 2.0 provider needs 'subject'" }]);
  // Choosing `none` (a public client) without naming a secret drops the stored one.
  const dropSecret = patch.token_endpoint_auth_method === "none" && patch.client_secret === undefined && cur.client_secret_sealed !== null;
  const hasSecret = patch.client_secret === undefined ? cur.client_secret_sealed !== null && !dropSecret : patch.client_secret !== null;
  // A secret given to a public client makes it client_secret_basic, as before methods could be chosen.
  const method: UpstreamAuthMethod = patch.token_endpoint_auth_method ?? (cur.token_endpoint_auth_method === "none" && typeof patch.client_secret === "string" ? "client_secret_basic" : cur.token_endpoint_auth_method);
  const methodProblem = authMethodProblem(method, hasSecret);
  if (methodProblem) throw new ValidationError("Invalid request", [{ field: patch.token_endpoint_auth_method ? "token_endpoint_auth_method" : "client_secret", message: methodProblem }]);
  if ((patch.rotate_client_key || patch.client_key_alg) && method !== "private_key_jwt") {
    throw new ValidationError("Invalid request", [{ field: patch.rotate_client_key ? "rotate_client_key" : "client_key_alg", message: "only with token_endpoint_auth_method private_key_jwt" }]);
  }
  // A key pair is made when private_key_jwt is chosen and there is none, on rotation, or for another algorithm.
  const needsKey = method === "private_key_jwt" && (!cur.client_key_kid || patch.rotate_client_key || (patch.client_key_alg !== undefined && patch.client_key_alg !== cur.client_key_alg));
  const key = needsKey ? await generateClientKey(deps, cur.slug, patch.client_key_alg ?? cur.client_key_alg ?? "RS256") : undefined;
  // Leaving private_key_jwt drops the key pair: nothing unused stays published or stored.
  const dropKey = method !== "private_key_jwt" && cur.client_key_kid !== null;
  return deps.sql.begin(async (tx) => {
    const row = await store.updateIdp(tx, cur.id, {
      name: patch.name?.trim(),
      client_id: patch.client_id,
      client_secret_sealed: dropSecret ? null : patch.client_secret === undefined ? undefined : patch.client_secret === null ? null : sealSecret(deps, cur.slug, patch.client_secret),
      token_endpoint_auth_method: method === cur.token_endpoint_auth_method ? undefined : method,
      ...(key ?? {}),
      ...(dropKey ? { client_key_kid: null, client_key_alg: null, client_key_public: null, client_key_sealed: null } : {}),
      scopes: patch.scopes,
      claim_mapping: patch.claim_mapping,
      create_users: patch.create_users,
      is_enabled: patch.is_enabled,
    });
    // The audit names the fields changed, never the secret.
    await auditAdmin(deps, tx, actor, "idp.update", { type: "idp", id: cur.slug }, { fields: Object.keys(patch), ...(key ? { client_key_kid: key.client_key_kid } : {}) });
    return view(deps, row!);
  }).finally(() => forgetProviders(deps));
}

export async function deleteIdp(deps: Deps, actor: Actor, slug: string): Promise<{ deleted: boolean; slug: string }> {
  const cur = await mustFind(deps, slug);
  return deps.sql.begin(async (tx) => {
    // Linked identities go with the provider (ON DELETE CASCADE); sessions keep running.
    await store.deleteIdp(tx, cur.id);
    await auditAdmin(deps, tx, actor, "idp.delete", { type: "idp", id: cur.slug });
    return { deleted: true, slug: cur.slug };
  }).finally(() => forgetProviders(deps));
}

/** The linked identities of a user, for the admin API's user view. */
export async function userIdentities(deps: Deps, userId: string) {
  await getUser(deps, userId); // 404 for an unknown user
  const rows = await store.listUserIdentities(deps.sql, userId);
  return { identities: rows.map((r) => ({ id: r.id, idp: r.idp_slug, idp_name: r.idp_name, subject: r.subject, email: r.email, created_at: r.created_at.toISOString(), last_used_at: r.last_used_at?.toISOString() ?? null })) };
}
