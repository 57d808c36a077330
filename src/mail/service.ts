// Outgoing mail: `enqueueMail` writes to the outbox (inside the caller's transaction, so a mail
// exists exactly when what caused it committed) and never talks to the mail server; a background
// worker in every serve process sends due mails with retries and exponential back-off. A down mail
// server never fails or delays a request, and nothing queued is lost on restart. Without
// AUTHLY_SMTP_URL mail is off: the flows that need it are not offered (`mailEnabled`).
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import { isDatabaseUnavailable } from "../errors";
import { log } from "../log";
import { backoffSeconds, MAIL_LIMITS, type Mail } from "./model";
import { smtpTransport, type MailTransport } from "./sender";
import { mailBrand } from "../branding/service";
import { DEFAULT_LOCALE, matchLocale, type Locale } from "../i18n";
import type { MailLook } from "./templates";
import { claimDueMails, insertMail, markAttemptFailed, markSent, outboxCounts } from "./store";

export function mailEnabled(deps: Pick<Deps, "config">): boolean {
  return Boolean(deps.config.smtpUrl && deps.config.mailFrom);
}

/** The language and brand of a mail: the recipient's `locale` claim, else the language of the page
 *  that caused it, else English; the server-wide brand (a mail is not sent on a client's behalf). */
export async function mailLook(deps: Pick<Deps, "config" | "sql">, userLocale?: string | null, pageLocale?: Locale, tx?: Tx): Promise<MailLook> {
  return { locale: (userLocale ? matchLocale(userLocale) : undefined) ?? pageLocale ?? DEFAULT_LOCALE, brand: await mailBrand(deps, tx) };
}

const wakers = new Set<() => void>();

/** Queues a mail (in `tx` when given). Dev mode also writes it to the log; elsewhere only its id
 *  and kind are logged, never a body (it may carry a link that works as a credential). */
export async function enqueueMail(deps: Pick<Deps, "config" | "sql">, mail: Mail, tx?: Tx): Promise<string> {
  const id = await insertMail(tx ?? deps.sql, mail);
  if (deps.config.devMode) log.info(`mail ${id} (${mail.kind}) queued to ${mail.to}: ${mail.subject}\n${mail.text}`);
  else log.info(`mail ${id} (${mail.kind}) queued`);
  // This process's worker looks now (after the caller's commit, a moment later); others poll.
  setTimeout(() => {
    for (const w of wakers) w();
  }, 20);
  return id;
}

export async function mailStatus(deps: Pick<Deps, "config" | "sql">) {
  return { enabled: mailEnabled(deps), from: deps.config.mailFrom ?? null, outbox: await outboxCounts(deps.sql) };
}

/** One round: claim due mails, send each, record the outcome. Returns how many were claimed. */
export async function sendDueMails(deps: Pick<Deps, "config" | "sql">, transport: MailTransport): Promise<number> {
  const rows = await claimDueMails(deps.sql, MAIL_LIMITS.batch);
  for (const row of rows) {
    try {
      await transport.send({ from: deps.config.mailFrom!, to: row.recipient, subject: row.subject, text: row.text_body, html: row.html_body });
      await markSent(deps.sql, row.id);
      log.info(`mail ${row.id} (${row.kind}) sent (attempt ${row.attempts})`);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const last = row.attempts >= deps.config.mailMaxAttempts;
      const retry = last ? null : backoffSeconds(deps.config.mailRetrySeconds, row.attempts);
      await markAttemptFailed(deps.sql, row.id, reason.slice(0, 500), retry);
      if (last) log.error(`mail ${row.id} (${row.kind}) given up after ${row.attempts} attempts: ${reason}`);
      else log.warn(`mail ${row.id} (${row.kind}) not sent (attempt ${row.attempts}): ${reason}; next try in ${retry} s`);
    }
  }
  return rows.length;
}

export interface MailWorker {
  stop(): Promise<void>;
}

/** The background sender of this process (a no-op without SMTP). */
export function startMailWorker(deps: Pick<Deps, "config" | "sql">, transport?: MailTransport): MailWorker {
  if (!mailEnabled(deps)) return { stop: async () => {} };
  const t = transport ?? smtpTransport(deps.config.smtpUrl!);
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = Math.min(MAIL_LIMITS.pollSeconds, deps.config.mailRetrySeconds) * 1000;
  const round = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    running = (async () => {
      try {
        // Bounded: at most 10 batches per round, then the next poll.
        for (let i = 0; i < 10 && !stopped; i++) if ((await sendDueMails(deps, t)) < MAIL_LIMITS.batch) break;
      } catch (err) {
        if (!isDatabaseUnavailable(err)) log.error("mail worker round failed", { error: err instanceof Error ? err.message : String(err) });
      }
    })().finally(() => {
      running = undefined;
      if (stopped) return;
      if (again) {
        again = false;
        setTimeout(round, 0);
      } else timer = setTimeout(round, poll);
    });
  };
  wakers.add(round);
  timer = setTimeout(round, 0);
  return {
    async stop() {
      stopped = true;
      wakers.delete(round);
      clearTimeout(timer);
      await running;
      t.close();
    },
  };
}
