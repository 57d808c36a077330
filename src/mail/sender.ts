// The SMTP side (nodemailer): AUTHLY_SMTP_URL smtp:// requires STARTTLS, smtps:// is TLS from the
// first byte; `?tls=off` (plain text) is accepted by config.ts only towards a loopback host.
// nodemailer (~40 modules) is loaded at the first mail, not at start: a server without
// AUTHLY_SMTP_URL never loads it, and one with it only once there is something to send.
import type { Transporter } from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport";
import { MAIL_LIMITS } from "./model";

export interface MailTransport {
  send(m: { from: string; to: string; subject: string; text: string; html: string }): Promise<void>;
  close(): void;
}

export function smtpTransport(smtpUrl: string): MailTransport {
  const u = new URL(smtpUrl);
  const secure = u.protocol === "smtps:";
  const plain = u.searchParams.get("tls") === "off";
  const options: SMTPTransport.Options = {
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
  };
  let transporter: Transporter | undefined;
  let closed = false;
  return {
    async send(m) {
      if (!transporter) {
        const { default: nodemailer } = await import("nodemailer");
        if (closed) throw new Error("the mail transport is closed");
        transporter ??= nodemailer.createTransport(options);
      }
      await transporter.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text, html: m.html });
    },
    close: () => {
      closed = true;
      transporter?.close();
    },
  };
}
