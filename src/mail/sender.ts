// The SMTP side (nodemailer): AUTHLY_SMTP_URL smtp:// requires STARTTLS, smtps:// is TLS from the
// first byte; `?tls=off` (plain text) is accepted by config.ts only towards a loopback host.
import nodemailer, { type Transporter } from "nodemailer";
import { MAIL_LIMITS } from "./model";

export interface MailTransport {
  send(m: { from: string; to: string; subject: string; text: string; html: string }): Promise<void>;
  close(): void;
}

export function smtpTransport(smtpUrl: string): MailTransport {
  const u = new URL(smtpUrl);
  const secure = u.protocol === "smtps:";
  const plain = u.searchParams.get("tls") === "off";
  const transporter: Transporter = nodemailer.createTransport({
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : secure ? 465 : 587,
    secure,
    requireTLS: !secure && !plain,
    ignoreTLS: plain,
    auth: u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined,
    connectionTimeout: MAIL_LIMITS.connectMs,
    greetingTimeout: MAIL_LIMITS.greetingMs,
    socketTimeout: MAIL_LIMITS.socketMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(m) {
      await transporter.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text, html: m.html });
    },
    close: () => transporter.close(),
  };
}
