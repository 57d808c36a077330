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
  // Self sign-up and the account page (src/account/signup.ts, email-change.ts).
  signup_confirm: (v) => ({
    subject: "Confirm your new account",
    paragraphs: [`Someone (hopefully you) asked to create the account '${v.username}' with this address at ${v.issuer}.`, `Open this link within ${v.hours} hours to confirm the address: the account is created then, not before.`, "If you did not ask for this, ignore this mail: no account is created."],
    action: "Confirm and create the account",
  }),
  signup_exists: (v) => ({
    subject: "You already have an account",
    paragraphs: [`Someone (hopefully you) tried to create an account with this address at ${v.issuer}, but this address already belongs to an account.`, "Sign in with it instead. Forgot its password? Use \"Forgot password?\" on the sign-in page.", "If this was not you, ignore this mail: nothing was changed."],
    action: "Sign in",
  }),
  signup_username_taken: (v) => ({
    subject: "Choose another username",
    paragraphs: [`Someone (hopefully you) tried to create the account '${v.username}' with this address at ${v.issuer}, but this username is taken.`, "Sign up again with another username.", "If this was not you, ignore this mail: no account was created."],
    action: "Sign up again",
  }),
  signup_invite: (v) => ({
    subject: "You are invited to create an account",
    paragraphs: [`You are invited to create an account with the address ${v.email} at ${v.issuer}.`, `The link works once, until ${v.expires}.`, "If you did not expect this mail, ignore it."],
    action: "Create your account",
  }),
  email_change: (v) => ({
    subject: "Confirm your new email address",
    paragraphs: [`The account '${v.username}' at ${v.issuer} asked to use ${v.email} as its email address.`, `Open this link within ${v.hours} hours to confirm it. Until then the account keeps its current address.`, "If you did not ask for this, ignore this mail."],
    action: "Confirm the new address",
  }),
  email_changed: (v) => ({
    subject: "Your email address was changed",
    paragraphs: [`The email address of the account '${v.username}' at ${v.issuer} was changed from this address to ${v.email}.`, "If you did not do this, reset your password and contact your administrator at once."],
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
