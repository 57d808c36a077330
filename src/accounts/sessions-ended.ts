// Sessions an account change ended (deactivation, deletion, password reset, sessions revoked), as
// the accounts domain publishes them. Protocol code subscribes (oidc/backchannel-logout.ts sends
// logout tokens; app.ts wires it), so the domain never imports protocol code (STYLE.md).
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";

export interface EndedSession {
  id: string;
  user_id: string;
}

/** What the subscriber read in the ending transaction; opaque to the accounts domain. */
export interface EndedSessionsNotice {
  readonly collected: unknown;
}

export interface EndedSessionsSubscriber {
  /** Runs inside the transaction that ended the sessions: a hard delete cascades away what it reads. */
  collect(tx: Tx, sessions: EndedSession[]): Promise<unknown>;
  /** Runs after the commit; must not throw or wait (work goes to the background). */
  notify(deps: Deps, collected: unknown, ip: string | null): void;
}

let subscriber: EndedSessionsSubscriber | undefined;

export function subscribeToEndedSessions(s: EndedSessionsSubscriber): void {
  subscriber = s;
}

export async function collectEndedSessions(tx: Tx, sessions: EndedSession[]): Promise<EndedSessionsNotice> {
  // Never a silent no-op: ending sessions without telling their clients is a bug, not a default.
  if (!subscriber) throw new Error("No subscriber for ended sessions: createApp wires oidc/backchannel-logout.ts");
  return { collected: await subscriber.collect(tx, sessions) };
}

export function notifyEndedSessions(deps: Deps, notice: EndedSessionsNotice, ip: string | null): void {
  subscriber?.notify(deps, notice.collected, ip);
}
