// The front-channel flow between the authorization endpoint, the login and consent pages and the
// code: what the pending request needs next (OIDC Core §3.1.2.3, prompt and max_age §3.1.2.1),
// the pending request kept server-side in `interactions`, remembered consent, and the code itself.
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import { pipelinedTransaction } from "../db/sql";
import type { ClientRecord } from "../clients/model";
import { hashSecret, randomToken, safeEqual } from "../lib/crypto";
import type { AuthorizationRequest } from "../oauth/authorize";
import { individuallyRequestedClaims } from "../oidc/claims";
import { acrOfAmr, type AcrLevel, type Enrolment } from "../authn/model";
import { enrolmentFrom, nextFactor } from "../authn/service";
import { sessionAge, type Session } from "./session";
import * as store from "./store";
import { findResources } from "../resources/service";

/** How long a pending login/consent may take before the user must start again. */
export const INTERACTION_TTL_SECONDS = 30 * 60;

/** What an interaction remembers besides the request. */
export interface InteractionState {
  request: AuthorizationRequest;
  /** Hash of the browser-binding cookie: the interaction continues only in the browser that began it. */
  browserHash: string;
  /** prompt=login / select_account: the user must authenticate within this interaction. */
  forceLogin: boolean;
  /** The session created by a login inside this interaction. */
  loginSessionId?: string;
  /** The user who gave consent in this interaction: it counts for that account only (another user
   *  who signs in within the same interaction is asked again). */
  consentGivenBy?: string;
  /** The session the consent page was shown to: a consent posted under another session is not taken. */
  consentShownTo?: string;
  /** A user who logged in correctly but must change the password before a session starts. */
  passwordChangeFor?: string;
  /** A sign-in for another page of this server (the device verification page, RFC 8628 §3.3):
   *  once the browser has a session, the interaction ends and the browser goes back to this path
   *  instead of an authorization response. */
  returnTo?: string;
}

export interface Interaction {
  id: string;
  idHash: string;
  state: InteractionState;
  client: ClientRecord;
}

export type Step =
  | { kind: "login" }
  /** The session must prove more (a second factor, or a passkey for `phr`) before going on. */
  | { kind: "factor"; session: Session; level: AcrLevel; enrolment: Enrolment }
  /** The user has no second factor and a policy (or an essential acr) requires one: enrol now. */
  | { kind: "enrol"; session: Session }
  | { kind: "consent" }
  | { kind: "complete"; session: Session }
  | { kind: "error"; error: OAuthError };

export function redirectError(req: AuthorizationRequest, code: string, description: string): OAuthError {
  return new OAuthError(code, description, { redirectable: true, redirectUri: req.redirectUri, state: req.state, responseMode: req.responseMode });
}

/** What the request needs next, given the browser's session and what happened in the interaction.
 *  `known`: the session user's state at this client when the caller has just read it (the login
 *  that started the session reads it in its transaction). */
export async function nextStep(deps: Deps, client: ClientRecord, st: Omit<InteractionState, "browserHash">, session: Session | undefined, known?: store.SignInState): Promise<Step> {
  const req = st.request;
  const none = req.prompt.includes("none");
  const authenticatedHere = session !== undefined && session.id === st.loginSessionId;
  const needLogin =
    !session ||
    (!authenticatedHere &&
      (st.forceLogin ||
        (req.maxAge !== undefined && sessionAge(session) > req.maxAge) ||
        (req.idTokenHintSub !== undefined && req.idTokenHintSub !== session.user_id)));
  if (needLogin) {
    if (none) return { kind: "error", error: redirectError(req, "login_required", "The user must sign in") };
    return { kind: "login" };
  }
  if (req.idTokenHintSub !== undefined && req.idTokenHintSub !== session.user_id) {
    return { kind: "error", error: redirectError(req, "login_required", "The signed-in user is not the user named by id_token_hint") };
  }
  // After the password: what the MFA policy and the request's acr ask for (src/authn/), then the
  // consent; the user, their factors and their consent at this client come in one read.
  const state = known?.user.id === session.user_id ? known : await store.findSignInState(deps.sql, session.user_id, client.client_id);
  if (!state) return { kind: "login" };
  const need = await nextFactor(deps, { user: state.user, clientPolicy: client.mfa, amr: session.amr, request: { acrValues: req.acrValues, essential: req.claims?.id_token?.acr } }, enrolmentFrom(state.factors));
  if (need.kind === "unmet") {
    // OIDC Core §5.5.1.1: an essential acr that cannot be met fails the authentication.
    return { kind: "error", error: redirectError(req, "unmet_authentication_requirements", "The requested authentication context (acr) cannot be met for this user") };
  }
  if (need.kind === "factor" || need.kind === "enrol") {
    if (none) return { kind: "error", error: redirectError(req, "login_required", "The user must complete a stronger sign-in") };
    return need.kind === "factor" ? { kind: "factor", session, level: need.level, enrolment: need.enrolment } : { kind: "enrol", session };
  }
  if (needsConsent(client, st, session.user_id, state.consent)) {
    if (none) return { kind: "error", error: redirectError(req, "consent_required", "The user must approve this application's access") };
    return { kind: "consent" };
  }
  return { kind: "complete", session };
}

function needsConsent(client: ClientRecord, st: Omit<InteractionState, "browserHash">, userId: string, remembered: store.RememberedConsent): boolean {
  if (st.consentGivenBy === userId) return false;
  if (st.request.prompt.includes("consent")) return true;
  // First-party clients and clients registered without consent skip the page (never with prompt=consent).
  if (client.is_first_party || !client.require_consent) return false;
  const scopes = new Set(remembered.scopes);
  const claims = new Set(remembered.claims);
  const apis = new Set(remembered.resources);
  // OIDC Core §3.1.2.4: claims asked for one by one are part of what the user consents to; so are
  // the APIs (RFC 8707 resources) the tokens will be for.
  return !st.request.scopes.every((s) => scopes.has(s)) || !consentClaims(st.request).every((c) => claims.has(c)) || !(st.request.resources ?? []).every((r) => apis.has(r));
}

/** The claims a request asks for beyond its scopes: shown on the consent page and remembered with it. */
export function consentClaims(req: AuthorizationRequest): string[] {
  return individuallyRequestedClaims(req.claims, req.scopes);
}

/** Issues the authorization code (contract: docs/contracts.md) and returns the response parameters. */
export async function issueCode(deps: Deps, req: AuthorizationRequest, session: Session): Promise<Record<string, string>> {
  const code = randomToken(32);
  await store.insertAuthorizationCode(deps.sql, codeRow(deps, req, session, code));
  return codeResponse(deps, req, code);
}

/**
 * Ends an interaction and issues its code in one transaction, in two round trips (db/sql.ts
 * pipelinedTransaction: the two statements go out with BEGIN, COMMIT in a second write): false when
 * another request already ended the interaction (a double submit), and then no code. With
 * `withCode` false (the account page) it only ends the interaction.
 */
export async function finishWithCode(deps: Deps, ia: Interaction, req: AuthorizationRequest, session: Session, withCode: boolean): Promise<Record<string, string> | undefined | false> {
  const code = randomToken(32);
  const ended = await pipelinedTransaction(deps.sql, async (tx) => {
    const [deleted] = await Promise.all([store.deleteInteraction(tx, ia.idHash), withCode ? store.insertAuthorizationCode(tx, codeRow(deps, req, session, code)) : undefined]);
    // Rolls the code back: the interaction was already ended.
    if (!deleted) throw new InteractionEnded();
    return true;
  }).catch((err) => {
    if (err instanceof InteractionEnded) return false;
    throw err;
  });
  if (!ended) return false;
  return withCode ? codeResponse(deps, req, code) : undefined;
}

class InteractionEnded extends Error {}

function codeRow(deps: Deps, req: AuthorizationRequest, session: Session, code: string): store.NewAuthorizationCode {
  return {
    codeHash: hashSecret(deps.peppers.tokens, code),
    clientId: req.clientId,
    userId: session.user_id,
    redirectUri: req.redirectUri,
    scope: req.scopes.join(" "),
    nonce: req.nonce ?? null,
    codeChallenge: req.codeChallenge,
    sessionId: session.id,
    authTime: session.auth_time,
    acr: session.acr ?? acrOfAmr(session.amr),
    amr: session.amr,
    claims: req.claims,
    // FAPI 2.0 Security Profile §5.3.2.1-14: a code lives at most 60 seconds.
    ttlSeconds: req.fapi ? Math.min(60, deps.config.authCodeTtl) : deps.config.authCodeTtl,
    resources: req.resources ?? [],
    dpopJkt: req.dpopJkt ?? null,
  };
}

function codeResponse(deps: Deps, req: AuthorizationRequest, code: string): Record<string, string> {
  const out: Record<string, string> = { code };
  if (req.state !== undefined) out.state = req.state;
  out.iss = deps.config.issuer;
  return out;
}

// ---- interactions --------------------------------------------------------------------------

function idHash(deps: Deps, id: string): string {
  return hashSecret(deps.peppers.secrets, `interaction:${id}`);
}

/** The CSRF token of an interaction's forms: derived from its id, so pages render it statelessly. */
export function csrfToken(deps: Deps, id: string): string {
  return hashSecret(deps.peppers.secrets, `csrf:${id}`);
}

export function checkCsrf(deps: Deps, id: string, submitted: string | undefined, csrfHash: string): boolean {
  if (!submitted) return false;
  const expected = csrfToken(deps, id);
  return safeEqual(hashSecret(deps.peppers.secrets, submitted), csrfHash) && safeEqual(submitted, expected);
}

export function browserHash(deps: Deps, browserToken: string): string {
  return hashSecret(deps.peppers.secrets, `browser:${browserToken}`);
}

export async function createInteraction(deps: Deps, st: InteractionState): Promise<string> {
  // Abandoned interactions are swept now and then by whoever creates one (no extra job needed).
  if (Math.random() < 0.02) await store.deleteExpiredInteractions(deps.sql);
  const id = randomToken(32);
  await store.insertInteraction(deps.sql, {
    idHash: idHash(deps, id),
    clientId: st.request.clientId,
    params: st as unknown as Record<string, unknown>,
    csrfHash: hashSecret(deps.peppers.secrets, csrfToken(deps, id)),
    ttlSeconds: INTERACTION_TTL_SECONDS,
  });
  return id;
}

export type LoadedInteraction = Interaction & { csrfHash: string };

/** The pending interaction, only for the browser that began it; undefined when unknown or expired. */
export async function loadInteraction(deps: Deps, id: string, browserToken: string | undefined, findClient: (id: string) => Promise<ClientRecord | undefined>): Promise<LoadedInteraction | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(id) || !browserToken) return undefined;
  const row = await store.findInteraction(deps.sql, idHash(deps, id));
  if (!row) return undefined;
  const state = row.params as unknown as InteractionState;
  if (!safeEqual(state.browserHash, browserHash(deps, browserToken))) return undefined;
  const client = await findClient(row.client_id);
  if (!client || !client.is_active) return undefined;
  return { id, idHash: row.id_hash, state, client, csrfHash: row.csrf_hash };
}

export async function saveInteraction(deps: Deps, ia: Interaction): Promise<void> {
  await store.updateInteraction(deps.sql, ia.idHash, ia.state as unknown as Record<string, unknown>, ia.state.loginSessionId ?? null);
}

/** Ends an interaction; false when another request already ended it (a double submit). */
export async function finishInteraction(deps: Deps, ia: Interaction): Promise<boolean> {
  return store.deleteInteraction(deps.sql, ia.idHash);
}

export async function rememberConsent(deps: Deps, userId: string, clientId: string, scopes: string[], claims: string[], resources: string[] = []): Promise<void> {
  await store.upsertConsent(deps.sql, userId, clientId, scopes, claims, resources);
}

/** The APIs (RFC 8707 resources) of a request as the consent page names them, and their scopes' descriptions. */
export async function consentResources(deps: Deps, req: AuthorizationRequest): Promise<{ apis: { name: string; identifier: string }[]; scopeDescriptions: Map<string, string> }> {
  const rows = req.resources?.length ? await findResources(deps.sql, req.resources) : [];
  const scopeDescriptions = new Map<string, string>();
  for (const r of rows) for (const s of r.scopes) if (s.description && !scopeDescriptions.has(s.name)) scopeDescriptions.set(s.name, s.description);
  return { apis: rows.map((r) => ({ name: r.name, identifier: r.identifier })), scopeDescriptions };
}

export async function scopeDescriptions(deps: Deps, scopes: string[]): Promise<{ name: string; description: string }[]> {
  const all = new Map((await store.loadActiveScopes(deps.sql)).map((s) => [s.name, s.description]));
  return scopes.map((name) => ({ name, description: all.get(name) || name }));
}
