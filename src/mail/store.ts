// SQL of the mail outbox. Claims use FOR UPDATE SKIP LOCKED and a lease, so several workers (in one
// process, several processes or several nodes) never send one mail at the same time.
import type { Tx } from "../db/sql";
import { MAIL_LIMITS, type Mail, type OutboxRow } from "./model";

export async function insertMail(sql: Tx, m: Mail): Promise<string> {
  const [row] = await sql<{ id: string }[]>`
    INSERT INTO mail_outbox (kind, recipient, subject, text_body, html_body)
    VALUES (${m.kind}, ${m.to}, ${m.subject}, ${m.text}, ${m.html}) RETURNING id::text`;
  return row!.id;
}

/** Leases up to `limit` due mails to the caller and counts the attempt. */
export async function claimDueMails(sql: Tx, limit: number): Promise<OutboxRow[]> {
  return sql<OutboxRow[]>`
    UPDATE mail_outbox SET locked_until = now() + make_interval(secs => ${MAIL_LIMITS.leaseSeconds}), attempts = attempts + 1
    WHERE id IN (
      SELECT id FROM mail_outbox
      WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < now())
      ORDER BY next_attempt_at, id LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING id::text, kind, recipient, subject, text_body, html_body, attempts`;
}

/** Sent: the bodies (which may hold a link) are cleared. */
export async function markSent(sql: Tx, id: string): Promise<void> {
  await sql`UPDATE mail_outbox SET sent_at = now(), locked_until = NULL, last_error = NULL, text_body = '', html_body = '' WHERE id = ${id}`;
}

export async function markAttemptFailed(sql: Tx, id: string, error: string, retryInSeconds: number | null): Promise<void> {
  if (retryInSeconds === null) {
    await sql`UPDATE mail_outbox SET failed_at = now(), locked_until = NULL, last_error = ${error}, text_body = '', html_body = '' WHERE id = ${id}`;
  } else {
    await sql`UPDATE mail_outbox SET next_attempt_at = now() + make_interval(secs => ${retryInSeconds}), locked_until = NULL, last_error = ${error} WHERE id = ${id}`;
  }
}

export async function outboxCounts(sql: Tx): Promise<{ pending: number; failed: number; sent: number }> {
  const [r] = await sql<{ pending: number; failed: number; sent: number }[]>`
    SELECT count(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL)::int AS pending,
           count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed,
           count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS sent
    FROM mail_outbox`;
  return r!;
}
