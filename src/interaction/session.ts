// The browser SSO session: an opaque cookie whose hash keys a row in `sessions`, so every worker
// and node can serve the next request. Idle and absolute lifetimes come from the config.
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import { hashSecret, randomToken } from "../lib/crypto";
import { acrOfAmr, combineAmr, type Method } from "../authn/model";
import { cookieSettings, readCookie, serializeCookie } from "./cookies";
import * as store from "./store";
import type { SessionRow } from "./store";

export type Session = SessionRow;

/** The live session of this browser, or undefined (unknown, expired, revoked, inactive user). */
export async function loadSession(deps: Deps, request: Request): Promise<Session | undefined> {
  const token = readCookie(request, cookieSettings(deps.config).sessionName);
  if (!token) return undefined;
  return store.touchSession(deps.sql, hashSecret(deps.peppers.secrets, token), deps.config.sessionIdleTtl);
}

export interface StartedSession {
  session: Session;
  /** The Set-Cookie header that hands the session to the browser. */
  cookie: string;
}

/** Starts a new session (always a new value: no session fixation); returns it and its Set-Cookie.
 *  Its amr and acr say what the user just did (src/authn/model.ts). `sql`: a transaction the
 *  session commits with (the login's, accounts/authenticate.ts). */
export async function startSession(deps: Deps, input: { userId: string; methods: Method[]; ip: string; userAgent: string | null }, sql: Tx = deps.sql): Promise<StartedSession> {
  const token = randomToken(32);
  const amr = combineAmr([], input.methods);
  const session = await store.insertSession(sql, {
    tokenHash: hashSecret(deps.peppers.secrets, token),
    userId: input.userId,
    amr,
    acr: acrOfAmr(amr),
    userAgent: input.userAgent?.slice(0, 512) ?? null,
    sourceIp: input.ip,
    idleSeconds: deps.config.sessionIdleTtl,
    absoluteSeconds: deps.config.sessionAbsoluteTtl,
  });
  const s = cookieSettings(deps.config);
  return { session, cookie: serializeCookie(s, s.sessionName, token, deps.config.sessionAbsoluteTtl) };
}

/** Starts a session of a sign-in at an upstream identity provider: its amr, acr and auth_time are
 *  what src/authn/upstream/ derived from the upstream's assertion, not a method done here. */
export async function startFederatedSession(deps: Deps, input: { userId: string; amr: string[]; acr: string; authTime: Date; idpId: string; upstreamSub?: string; upstreamSid?: string; ip: string; userAgent: string | null }): Promise<StartedSession> {
  const token = randomToken(32);
  const session = await store.insertSession(deps.sql, {
    tokenHash: hashSecret(deps.peppers.secrets, token),
    userId: input.userId,
    amr: input.amr,
    acr: input.acr,
    authTime: input.authTime,
    upstreamIdpId: input.idpId,
    upstreamSub: input.upstreamSub,
    upstreamSid: input.upstreamSid,
    userAgent: input.userAgent?.slice(0, 512) ?? null,
    sourceIp: input.ip,
    idleSeconds: deps.config.sessionIdleTtl,
    absoluteSeconds: deps.config.sessionAbsoluteTtl,
  });
  const s = cookieSettings(deps.config);
  return { session, cookie: serializeCookie(s, s.sessionName, token, deps.config.sessionAbsoluteTtl) };
}

/** A step-up inside a live session: the methods just completed join its amr, its acr and auth_time
 *  follow (OIDC Core §2: auth_time is the time of the last active authentication). */
export async function elevateSession(deps: Deps, session: Session, methods: Method[]): Promise<Session> {
  const amr = combineAmr(session.amr, methods);
  return (await store.updateSessionAuthentication(deps.sql, session.id, amr, acrOfAmr(amr))) ?? session;
}

export async function endSession(deps: Deps, session: Session): Promise<void> {
  await store.revokeSession(deps.sql, session.id);
}

export function clearSessionCookie(deps: Deps): string {
  const s = cookieSettings(deps.config);
  return serializeCookie(s, s.sessionName, "", 0);
}

/** Seconds since the user last authenticated in this session (for max_age, OIDC Core §3.1.2.1). */
export function sessionAge(session: Session): number {
  return Math.floor((Date.now() - new Date(session.auth_time).getTime()) / 1000);
}
