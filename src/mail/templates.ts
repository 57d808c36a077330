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
