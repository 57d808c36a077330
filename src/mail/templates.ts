// The mails Authly sends: each a plain-text and an HTML part from one template, in the recipient's
// language (src/i18n) and the server's brand (product name, colours, an https logo). Values are
// escaped in the HTML part; links are absolute URLs under the issuer.
import type { Brand } from "../branding/service";
import { DEFAULT_COLOURS, DEFAULT_PRODUCT } from "../branding/model";
import { DEFAULT_LOCALE, translator, type Locale, type MessageKey, type Translate } from "../i18n";
import type { Mail, MailKind } from "./model";

function escapeHtml(v: string): string {
  return v.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

interface Template {
  subject: MessageKey;
  /** Paragraphs of text. */
  paragraphs: MessageKey[];
  action?: MessageKey;
}

const TEMPLATES: Record<MailKind, Template> = {
  test: { subject: "mail.test_subject", paragraphs: ["mail.test_p1", "mail.test_p2"] },
  password_reset: { subject: "mail.reset_subject", paragraphs: ["mail.reset_p1", "mail.reset_p2", "mail.reset_p3"], action: "mail.reset_action" },
  email_verification: { subject: "mail.verify_subject", paragraphs: ["mail.verify_p1", "mail.verify_p2", "mail.verify_p3"], action: "mail.verify_action" },
  // Self sign-up and the account page (src/account/signup.ts, email-change.ts).
  signup_confirm: { subject: "mail.signup_confirm_subject", paragraphs: ["mail.signup_confirm_p1", "mail.signup_confirm_p2", "mail.signup_confirm_p3"], action: "mail.signup_confirm_action" },
  signup_exists: { subject: "mail.signup_exists_subject", paragraphs: ["mail.signup_exists_p1", "mail.signup_exists_p2", "mail.signup_exists_p3"], action: "mail.signup_exists_action" },
  signup_username_taken: { subject: "mail.signup_taken_subject", paragraphs: ["mail.signup_taken_p1", "mail.signup_taken_p2", "mail.signup_taken_p3"], action: "mail.signup_taken_action" },
  signup_invite: { subject: "mail.invite_subject", paragraphs: ["mail.invite_p1", "mail.invite_p2", "mail.invite_p3"], action: "mail.invite_action" },
  email_change: { subject: "mail.email_change_subject", paragraphs: ["mail.email_change_p1", "mail.email_change_p2", "mail.email_change_p3"], action: "mail.email_change_action" },
  email_changed: { subject: "mail.email_changed_subject", paragraphs: ["mail.email_changed_p1", "mail.email_changed_p2"] },
};

export interface MailLook {
  locale?: Locale;
  brand?: Pick<Brand, "productName" | "colours" | "logoUrl">;
}

export function renderMail(kind: MailKind, to: string, values: Record<string, string>, link?: string, look: MailLook = {}): Mail {
  const t: Translate = translator(look.locale ?? DEFAULT_LOCALE);
  const product = look.brand?.productName ?? DEFAULT_PRODUCT;
  const colours = look.brand?.colours ?? DEFAULT_COLOURS;
  const params = { ...values, product };
  const tpl = TEMPLATES[kind];
  const paragraphs = tpl.paragraphs.map((k) => t(k, params));
  const action = t(tpl.action ?? "mail.open", params);
  const signature = t("mail.signature", params);
  const text = [...paragraphs, ...(link ? [`${action}: ${link}`] : []), "", signature].join("\n\n");
  // Colours were checked as CSS colour values (branding/model.ts), so they are safe in a style attribute.
  const logo = look.brand?.logoUrl ? `<p><img src="${escapeHtml(look.brand.logoUrl)}" alt="${escapeHtml(product)}" height="32" style="height:32px;width:auto"></p>` : "";
  const html = [
    "<!doctype html>",
    `<html lang="${look.locale ?? DEFAULT_LOCALE}"><body style="font-family:system-ui,sans-serif;line-height:1.5;color:${colours.text};background:${colours.background};margin:0;padding:24px">`,
    '<div style="max-width:36rem;margin:0 auto;background:#ffffff;color:#1f2328;border-radius:8px;padding:24px">',
    logo || `<p style="font-weight:600;color:${colours.primary}">${escapeHtml(product)}</p>`,
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(link ? [`<p><a href="${escapeHtml(link)}" style="display:inline-block;padding:.6em 1.2em;background:${colours.primary};color:#fff;border-radius:6px;text-decoration:none">${escapeHtml(action)}</a></p>`, `<p style="font-size:.85em;color:#57606a">${escapeHtml(link)}</p>`] : []),
    `<p>${escapeHtml(signature)}</p>`,
    "</div></body></html>",
  ].join("\n");
  return { kind, to, subject: t(tpl.subject, params), text, html };
}
