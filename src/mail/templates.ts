// The mails Authly sends: each a plain-text and an HTML part from one template. Values are escaped
// in the HTML part; links are absolute URLs under the issuer.
import type { Mail, MailKind } from "./model";

function escapeHtml(v: string): string {
  return v.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

interface Template {
  subject: string;
  /** Paragraphs of text; `{link}` is replaced by the action link where there is one. */
  paragraphs: string[];
  action?: string;
}

const TEMPLATES: Record<MailKind, (v: Record<string, string>) => Template> = {
  test: (v) => ({
    subject: "Authly test mail",
    paragraphs: [`This is a test mail from the Authly server at ${v.issuer}.`, "If you can read it, outgoing mail works."],
  }),
  password_reset: (v) => ({
    subject: "Reset your password",
    paragraphs: [
      `Someone (hopefully you) asked to reset the password of the account '${v.username}' at ${v.issuer}.`,
      `Open this link within ${v.minutes} minutes to choose a new password. It works once; a newer request replaces it.`,
      "If you did not ask for this, ignore this mail: your password stays as it is.",
    ],
    action: "Choose a new password",
  }),
  email_verification: (v) => ({
    subject: "Confirm your email address",
    paragraphs: [`Confirm that ${v.email} is the address of the account '${v.username}' at ${v.issuer}.`, `The link works once, for ${v.hours} hours.`, "If you did not expect this mail, ignore it."],
    action: "Confirm the address",
  }),
};

export function renderMail(kind: MailKind, to: string, values: Record<string, string>, link?: string): Mail {
  const t = TEMPLATES[kind](values);
  const text = [...t.paragraphs, ...(link ? [`${t.action ?? "Open"}: ${link}`] : []), "", "— Authly"].join("\n\n");
  const html = [
    "<!doctype html>",
    '<html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1f2937">',
    ...t.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(link ? [`<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:.6em 1.2em;background:#2563eb;color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(t.action ?? "Open")}</a></p>`, `<p style="font-size:.85em;color:#6b7280">${escapeHtml(link)}</p>`] : []),
    "<p>— Authly</p>",
    "</body></html>",
  ].join("\n");
  return { kind, to, subject: t.subject, text, html };
}
