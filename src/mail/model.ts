// Outgoing mail: what is queued (the outbox row) and how it is sent. Nothing else in Authly sends mail.

export type MailKind = "test" | "password_reset" | "email_verification" | "signup_confirm" | "signup_exists" | "signup_username_taken" | "signup_invite" | "email_change" | "email_changed";

export interface Mail {
  kind: MailKind;
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface OutboxRow {
  id: string;
  kind: MailKind;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: number;
}

/** Limits of the outbox worker (documented in README "Email"). */
export const MAIL_LIMITS = {
  /** Rows one worker claims per round. */
  batch: 10,
  /** Seconds a claimed row stays leased to its worker (longer than one send's timeouts). */
  leaseSeconds: 120,
  /** Seconds between two rounds of a worker when nothing wakes it. */
  pollSeconds: 5,
  /** Back-off ceiling between two attempts of one mail. */
  maxBackoffSeconds: 3600,
  /** SMTP timeouts (connect, greeting, socket), milliseconds. */
  connectMs: 10_000,
  greetingMs: 10_000,
  socketMs: 30_000,
} as const;

/** Seconds until attempt n+1 (n ≥ 1 attempts made): base · 2^(n-1), capped. */
export function backoffSeconds(base: number, attempts: number): number {
  return Math.min(MAIL_LIMITS.maxBackoffSeconds, base * 2 ** Math.max(0, Math.min(attempts - 1, 20)));
}
