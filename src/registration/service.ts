// Dynamic client registration (RFC 7591) and its management protocol (RFC 7592): who may register
// (AUTHLY_REGISTRATION: closed, initial access tokens, open and rate-limited per source), the
// metadata validated by the one client validator (clients/service.ts), the registration access
// token (hashed; rotated on every update) and the registration client URI.
import type { Deps } from "../deps";
import type { Actor } from "../audit/service";
import { auditAdmin } from "../audit/service";
import { createClientTx, deleteClientTx, findClientRecord, updateClientTx } from "../clients/service";
import { toClient } from "../clients/model";
import { verifyClientSecret } from "../clients/secrets";
import { OAuthError, ValidationError } from "../errors";
import { hashSecret, randomToken } from "../lib/crypto";
import { OutboundError, outboundPolicy, safeFetch } from "../lib/outbound";
import { decodeUtf8, parseJsonSafely } from "../lib/text";
import { assertSchema } from "../lib/validate";
import { clientInformation, InitialTokenCreate, registrationToClientBody, SUPPORTED_FIELDS } from "./model";
import * as store from "./store";

export const REGISTRATION_PATH = "/oauth/register";
const SECTOR_MAX_BYTES = 64 * 1024;
const SECTOR_TIMEOUT_MS = 5000;

const hashRegistrationToken = (deps: Deps, token: string) => hashSecret(deps.peppers.tokens, `registration:${token}`);

export function registrationClientUri(deps: Deps, clientId: string): string {
  return `${deps.config.issuer.replace(/\/+$/, "")}${REGISTRATION_PATH}/${encodeURIComponent(clientId)}`;
}

function invalidToken(description: string): OAuthError {
  return new OAuthError("invalid_token", description, { status: 401, headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${description}"` } });
}

/** The validator's field problems as RFC 7591 §3.2.2 errors: a bad redirect URI has its own code. */
function metadataError(err: unknown): unknown {
  if (!(err instanceof ValidationError)) return err;
  const fields = err.fields ?? [];
  const code = fields.some((f) => f.field.startsWith("redirect_uris") || f.field.startsWith("post_logout_redirect_uris")) ? "invalid_redirect_uri" : "invalid_client_metadata";
  const detail = fields.map((f) => `${f.field} ${f.message}`).join("; ");
  return new OAuthError(code, detail || err.message);
}

/** A JSON object of client metadata, or invalid_client_metadata. */
function metadataObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new OAuthError("invalid_client_metadata", "The request body must be a JSON object of client metadata");
  return body as Record<string, unknown>;
}

/** OIDC Dynamic Registration §5: every redirect URI must be listed in the sector identifier document. */
async function checkSectorIdentifier(deps: Deps, meta: Record<string, unknown>): Promise<void> {
  const uri = meta.sector_identifier_uri;
  if (uri === undefined) return;
  const fail = (why: string) => new OAuthError("invalid_client_metadata", `sector_identifier_uri ${why}`);
  if (typeof uri !== "string") throw fail("must be a URL");
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw fail("must be an https URL");
  }
  const policy = outboundPolicy(deps.config);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowLoopback)) throw fail("must be an https URL");
  let list: unknown;
  try {
    const res = await safeFetch(uri, { headers: { Accept: "application/json" } }, { ...policy, maxBytes: SECTOR_MAX_BYTES, timeoutMs: SECTOR_TIMEOUT_MS });
    if (res.status !== 200) throw fail(`answered HTTP ${res.status}`);
    const text = decodeUtf8(res.body);
    const parsed = text === undefined ? undefined : parseJsonSafely(text);
    list = parsed?.ok ? parsed.value : undefined;
  } catch (err) {
    if (err instanceof OutboundError) throw fail(`could not be fetched: ${err.message}`);
    throw err;
  }
  if (!Array.isArray(list)) throw fail("must hold a JSON array of redirect URIs");
  const redirects = Array.isArray(meta.redirect_uris) ? meta.redirect_uris : [];
  const missing = redirects.filter((r) => !list.includes(r));
  if (missing.length) throw fail(`does not list the redirect URI(s): ${missing.join(", ")}`);
}

function registrationActor(ip: string): Actor {
  return { userId: null, username: "dynamic-registration", ip };
}

/**
 * POST /oauth/register (RFC 7591 §3). `initialToken`: the Bearer token of the request, required in
 * token mode (and checked whenever given). The caller has applied the open mode's rate limit.
 */
export async function registerClient(deps: Deps, body: unknown, ctx: { ip: string; initialToken?: string }): Promise<Record<string, unknown>> {
  const meta = metadataObject(body);
  if (meta.software_statement !== undefined) throw new OAuthError("invalid_software_statement", "Software statements are not accepted by this server");
  if (deps.config.registration === "token" && !ctx.initialToken) throw invalidToken("An initial access token is required to register a client");
  const clientBody = registrationToClientBody(meta);
  await checkSectorIdentifier(deps, meta);
  const registrationToken = randomToken(32);
  return deps.sql.begin(async (tx) => {
    let initialTokenId: string | null = null;
    if (ctx.initialToken) {
      initialTokenId = (await store.useInitialToken(tx, hashRegistrationToken(deps, ctx.initialToken))) ?? null;
      if (!initialTokenId) throw invalidToken("The initial access token is invalid, expired or used up");
    }
    let client;
    try {
      client = await createClientTx(deps, tx, registrationActor(ctx.ip), clientBody, { auditAction: "client.register", dropUnknownScopes: true });
    } catch (err) {
      throw metadataError(err);
    }
    await store.insertRegistration(tx, { clientId: client.client_id, accessTokenHash: hashRegistrationToken(deps, registrationToken), initialTokenId });
    return clientInformation(client, { registrationClientUri: registrationClientUri(deps, client.client_id), registrationAccessToken: registrationToken, issuedAt: new Date(client.created_at) });
  });
}

/** RFC 7592 §2: the registration access token must belong to this client_id; else 401. */
async function authorizeRegistration(deps: Deps, tx: Parameters<typeof store.findRegistration>[0], clientId: string, token: string | undefined, lock = false): Promise<void> {
  if (!token) throw invalidToken("The registration access token is required");
  const reg = await store.findRegistration(tx, hashRegistrationToken(deps, token), lock);
  if (!reg || reg.client_id !== clientId) throw invalidToken("The registration access token is invalid for this client");
  const client = await findClientRecord(deps, tx, clientId);
  if (!client || !client.is_active) throw invalidToken("The client no longer exists");
}

/** GET: the client's current metadata (RFC 7592 §2.1). The secret is never shown again. */
export async function readRegistration(deps: Deps, clientId: string, token: string | undefined): Promise<Record<string, unknown>> {
  await authorizeRegistration(deps, deps.sql, clientId, token);
  const row = (await findClientRecord(deps, deps.sql, clientId))!;
  return clientInformation(toClient(row), { registrationClientUri: registrationClientUri(deps, clientId), issuedAt: row.created_at });
}

/** PUT: replaces the metadata (omitted fields are reset, RFC 7592 §2.2) and rotates the token. */
export async function updateRegistration(deps: Deps, clientId: string, token: string | undefined, body: unknown, ip: string): Promise<Record<string, unknown>> {
  const meta = metadataObject(body);
  if (meta.software_statement !== undefined) throw new OAuthError("invalid_software_statement", "Software statements are not accepted by this server");
  if (meta.client_id !== clientId) throw new OAuthError("invalid_client_metadata", "client_id must be the registered client_id (RFC 7592 §2.2)");
  const next = registrationToClientBody(meta);
  await checkSectorIdentifier(deps, meta);
  const rotated = randomToken(32);
  return deps.sql.begin(async (tx) => {
    await authorizeRegistration(deps, tx, clientId, token, true);
    const cur = (await findClientRecord(deps, tx, clientId))!;
    if (meta.client_secret !== undefined && (typeof meta.client_secret !== "string" || !verifyClientSecret(deps, cur, meta.client_secret))) {
      throw new OAuthError("invalid_client_metadata", "client_secret does not match the registered secret (RFC 7592 §2.2)");
    }
    if (next.client_type !== cur.client_type) throw new OAuthError("invalid_client_metadata", `token_endpoint_auth_method cannot turn a ${cur.client_type} client into a ${next.client_type} one`);
    const patch: Record<string, unknown> = { require_consent: true };
    for (const f of SUPPORTED_FIELDS) patch[f] = next[f] ?? RESET[f];
    keepStrongerSecurity(patch, cur);
    let client;
    try {
      client = await updateClientTx(deps, tx, registrationActor(ip), clientId, patch, { auditAction: "client.register_update", dropUnknownScopes: true });
    } catch (err) {
      throw metadataError(err);
    }
    await store.rotateRegistrationToken(tx, clientId, hashRegistrationToken(deps, rotated));
    return clientInformation(client, { registrationClientUri: registrationClientUri(deps, clientId), registrationAccessToken: rotated, issuedAt: new Date(client.created_at) });
  });
}

/** What an omitted field becomes on a full update (RFC 7592 §2.2: treated as null or empty). */
const RESET: Record<(typeof SUPPORTED_FIELDS)[number], unknown> = {
  redirect_uris: [], token_endpoint_auth_method: "client_secret_basic", grant_types: ["authorization_code"], client_name: "Unnamed client",
  client_uri: null, logo_uri: null, scope: "", contacts: [], tos_uri: null, policy_uri: null, jwks_uri: null, jwks: null,
  post_logout_redirect_uris: [], backchannel_logout_uri: null, id_token_signed_response_alg: "RS256",
  require_pushed_authorization_requests: false,
  dpop_bound_access_tokens: false,
  fapi_profile: null,
};

/**
 * The security settings a registrant's update may raise but never lower (an admin may have set them,
 * e.g. `authly admin client update --dpop-bound`): omitted or weaker, the stored value stays in force
 * (RFC 7592 §2.2 lets the server keep a value; the answer shows the values in force).
 */
function keepStrongerSecurity(patch: Record<string, unknown>, cur: { require_pushed_authorization_requests: boolean; dpop_bound_access_tokens: boolean; fapi_profile: string | null }): void {
  if (cur.require_pushed_authorization_requests) patch.require_pushed_authorization_requests = true;
  if (cur.dpop_bound_access_tokens) patch.dpop_bound_access_tokens = true;
  // fapi2-security is the strongest profile; "none"/null (the server's mode) never replace it.
  if (cur.fapi_profile === "fapi2-security") patch.fapi_profile = "fapi2-security";
}

/** DELETE: the client and everything issued to it (RFC 7592 §2.3). */
export async function deleteRegistration(deps: Deps, clientId: string, token: string | undefined, ip: string): Promise<void> {
  await deps.sql.begin(async (tx) => {
    await authorizeRegistration(deps, tx, clientId, token, true);
    await deleteClientTx(deps, tx, registrationActor(ip), clientId, true, { auditAction: "client.register_delete" });
  });
}

/** Admin: a new initial access token (RFC 7591 §3), shown once. */
export async function createInitialToken(deps: Deps, actor: Actor, body: unknown): Promise<{ id: string; token: string; expires_at: string; max_uses: number }> {
  const input = assertSchema<InitialTokenCreate>(InitialTokenCreate, body);
  const token = `iat_${randomToken(32)}`;
  const maxUses = input.max_uses ?? 1;
  return deps.sql.begin(async (tx) => {
    const row = await store.insertInitialToken(tx, { tokenHash: hashRegistrationToken(deps, token), maxUses, expiresAt: new Date(Date.now() + (input.expires_in ?? 86400) * 1000), createdBy: actor.userId });
    await auditAdmin(deps, tx, actor, "registration_token.create", { type: "registration_token", id: row.id }, { max_uses: maxUses, expires_at: row.expires_at.toISOString() });
    return { id: row.id, token, expires_at: row.expires_at.toISOString(), max_uses: maxUses };
  });
}
