// OpenID Connect Back-Channel Logout 1.0: when a session ends, every client that took part in it
// and registered a backchannel_logout_uri gets a signed logout token (§2.4) by direct POST (§2.5).
// Deliveries run in parallel, each bounded to 5 s; failures are logged and audited, never retried.
// Every delivery runs in the background once the session has ended (RP-initiated logout, or an
// admin revoking, deactivating, deleting, resetting a password); shutdown waits for them.
import type { Deps } from "../deps";
import type { ClientRecord } from "../clients/model";
import type { Tx } from "../db/sql";
import type { KeyAlg } from "../keys/store";
import { signCompactJws } from "../keys/service";
import type { EndedSession, EndedSessionsSubscriber } from "../accounts/sessions-ended";
import { audit } from "../audit/service";
import { randomToken } from "../lib/crypto";
import { outboundPolicy, safeFetch } from "../lib/outbound";
import { log } from "../log";
import { findBackchannelClients, findBackchannelClientsOfSessions, revokeSessionGrants } from "./store";

export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";
const DELIVERY_TIMEOUT_MS = 5_000;
const LOGOUT_TOKEN_TTL_SECONDS = 120;

export type { EndedSession };

/** The logout token for one client (§2.4): iss, aud, iat, exp, jti, sub, sid, events; never a nonce. */
export async function issueLogoutToken(deps: Deps, client: ClientRecord, session: EndedSession): Promise<string> {
  const alg = (client.id_token_signed_response_alg || deps.config.idTokenAlg) as KeyAlg;
  const key = await deps.keys.signingKey(alg);
  const now = Math.floor(Date.now() / 1000);
  // Signed like every token of ours (keys/service.ts signCompactJws, on the signature helper thread).
  return signCompactJws(key, { typ: "logout+jwt" }, {
    iss: deps.config.issuer,
    sub: session.user_id,
    aud: client.client_id,
    iat: now,
    exp: now + LOGOUT_TOKEN_TTL_SECONDS,
    jti: randomToken(16),
    sid: session.id,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
  });
}

export interface DeliveryResult {
  clientId: string;
  ok: boolean;
  status?: number;
}

/** A session that ended and the clients it must notify. */
export interface SessionLogout {
  session: EndedSession;
  clients: ClientRecord[];
}

/** The clients to notify for each session, read inside the transaction that ends the sessions
 *  (a hard delete takes the grants and codes that name them). Sessions without one are left out. */
export async function findSessionLogouts(sql: Tx, sessions: EndedSession[]): Promise<SessionLogout[]> {
  const rows = await findBackchannelClientsOfSessions(sql, sessions.map((s) => s.id));
  return sessions.flatMap((session) => {
    const clients = rows.filter((r) => r.session_id === session.id);
    return clients.length ? [{ session, clients }] : [];
  });
}

/** Revokes the session's online grants (before the caller answers), then notifies its clients in
 *  the background: a slow or unreachable RP never delays the end-session response. */
export async function backchannelLogout(deps: Deps, session: EndedSession, ip: string | null): Promise<void> {
  await revokeSessionGrants(deps.sql, session.id);
  const clients = await findBackchannelClients(deps.sql, session.id);
  sendLogoutsInBackground(deps, clients.length ? [{ session, clients }] : [], ip);
}

/** How ended accounts' sessions (accounts/sessions-ended.ts) reach their clients; app.ts subscribes it. */
export const backchannelLogoutSubscriber: EndedSessionsSubscriber = {
  collect: (tx, sessions) => findSessionLogouts(tx, sessions),
  notify: (deps, collected, ip) => sendLogoutsInBackground(deps, collected as SessionLogout[], ip),
};

const inFlight = new Set<Promise<unknown>>();

/** Sends the logout tokens of ended sessions (RP-initiated or by an admin); call after the commit.
 *  Runs in the background: an RP that is slow or down never delays or fails the response. */
export function sendLogoutsInBackground(deps: Deps, logouts: SessionLogout[], ip: string | null): void {
  if (!logouts.length) return;
  const p = Promise.all(logouts.flatMap((l) => l.clients.map((c) => deliver(deps, c, l.session, ip))))
    .catch((err) => log.error("back-channel logout failed", { error: err instanceof Error ? err.message : String(err) }))
    .finally(() => inFlight.delete(p));
  inFlight.add(p);
}

/** Resolves once every background delivery started so far has ended (each is bounded to 5 s). */
export async function settleBackgroundLogouts(): Promise<void> {
  while (inFlight.size) await Promise.all(inFlight);
}

async function deliver(deps: Deps, client: ClientRecord, session: EndedSession, ip: string | null): Promise<DeliveryResult> {
  let result: DeliveryResult;
  try {
    const token = await issueLogoutToken(deps, client, session);
    // Destinations checked after DNS resolution, redirects never followed, the answer's body unread.
    const r = await safeFetch(
      client.backchannel_logout_uri!,
      {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "Cache-Control": "no-store" },
        body: new URLSearchParams({ logout_token: token }).toString(),
        discardBody: true,
      },
      { ...outboundPolicy(deps.config), maxBytes: 0, timeoutMs: DELIVERY_TIMEOUT_MS },
    );
    // §2.8: 200 (or 204) is success; anything else, redirects included, is a failure.
    result = { clientId: client.client_id, ok: r.status === 200 || r.status === 204, status: r.status };
  } catch (err) {
    result = { clientId: client.client_id, ok: false };
    log.warn("back-channel logout delivery failed", { client_id: client.client_id, error: err instanceof Error ? err.message : String(err) });
  }
  await audit(deps, {
    action: "logout.backchannel",
    actor: session.user_id,
    targetType: "client",
    targetId: client.client_id,
    outcome: result.ok ? "success" : "failure",
    ip,
    details: { session_id: session.id, ...(result.status !== undefined ? { status: result.status } : {}) },
  });
  return result;
}
