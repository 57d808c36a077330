// The account page's work (/account): who is signed in and whether the session is strong enough
// (the same authn requirement as a sign-in at a client with policy `optional`), the page's CSRF
// token (bound to the session), the sign-in that starts an interaction, and what the page lists.
import type { Deps } from "../deps";
import { randomToken, hashSecret, safeEqual } from "../lib/crypto";
import { findUserById } from "../accounts/store";
import type { UserRecord } from "../accounts/model";
import { nextFactor } from "../authn/service";
import { listCredentials, findTotp, countFactors } from "../authn/store";
import type { AuthorizationRequest } from "../oauth/authorize";
import { ACCOUNT_CLIENT_ID, accountClient, accountRedirectUri } from "../interaction/account-client";
import { cookieSettings, readCookie, serializeCookie } from "../interaction/cookies";
import { browserHash, createInteraction } from "../interaction/service";
import { listConsents, listUserSessions } from "../interaction/store";
import type { Session } from "../interaction/session";

/** The CSRF token of the account forms: derived from the session, so it dies with it. */
export function accountCsrf(deps: Deps, session: Session): string {
  return hashSecret(deps.peppers.secrets, `account-csrf:${session.id}`);
}

export function checkAccountCsrf(deps: Deps, session: Session, submitted: string | undefined): boolean {
  return Boolean(submitted) && safeEqual(submitted!, accountCsrf(deps, session));
}

/** The signed-in user when the session is strong enough for the account page; otherwise undefined
 *  (the caller starts a sign-in, which asks for what is missing). */
export async function accountUser(deps: Deps, session: Session | undefined): Promise<UserRecord | undefined> {
  if (!session) return undefined;
  const user = await findUserById(deps.sql, session.user_id);
  if (!user || !user.is_active) return undefined;
  const need = await nextFactor(deps, { user, clientPolicy: accountClient(deps).mfa, amr: session.amr });
  return need.kind === "satisfied" ? user : undefined;
}

/** Starts the account page's sign-in: an interaction of the built-in account client, bound to this
 *  browser. Returns the interaction path and the cookies to set. */
export async function startAccountSignIn(deps: Deps, request: Request): Promise<{ path: string; cookies: string[] }> {
  const cookies = cookieSettings(deps.config);
  const set: string[] = [];
  let browser = readCookie(request, cookies.browserName);
  if (!browser) {
    browser = randomToken(32);
    set.push(serializeCookie(cookies, cookies.browserName, browser));
  }
  const req: AuthorizationRequest = {
    clientId: ACCOUNT_CLIENT_ID,
    redirectUri: accountRedirectUri(deps),
    responseMode: "query",
    scopes: ["openid"],
    // No code is ever issued to the account client (interaction/routes.ts): PKCE has nothing to bind.
    codeChallenge: "-",
    prompt: [],
    claims: null,
  };
  const id = await createInteraction(deps, { request: req, forceLogin: false, browserHash: browserHash(deps, browser) });
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  return { path: `${base}/interaction/${id}`, cookies: set };
}

export async function accountOverview(deps: Deps, user: UserRecord, current: Session) {
  const [totp, creds, counts, sessions, consents] = await Promise.all([
    findTotp(deps.sql, user.id),
    listCredentials(deps.sql, user.id),
    countFactors(deps.sql, user.id),
    listUserSessions(deps.sql, user.id),
    listConsents(deps.sql, user.id),
  ]);
  return {
    totp: Boolean(totp?.confirmed_at),
    recoveryLeft: counts.recovery,
    passkeys: creds.map((c) => ({ id: c.id, name: c.name, passkey: c.is_passkey, createdAt: c.created_at, lastUsedAt: c.last_used_at })),
    sessions: sessions.map((s) => ({ id: s.id, current: s.id === current.id, userAgent: s.user_agent, ip: s.source_ip, authTime: s.auth_time, lastSeen: s.last_seen_at, amr: s.amr })),
    consents: consents.map((c) => ({ clientId: c.client_id, clientName: c.client_name ?? c.client_id, scopes: c.scopes, updatedAt: c.updated_at })),
  };
}
export type AccountOverview = Awaited<ReturnType<typeof accountOverview>>;
