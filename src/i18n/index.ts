// The message catalogues and the locale choice: pages and mails never hold literal text, they call
// `t(key, params)` bound to the request's locale. OIDC Core §3.1.2.1 (ui_locales), RFC 9110 §12.5.4
// (Accept-Language with q-values), RFC 4647 §3.4 (lookup: "de-CH" falls back to "de").
import { de } from "./de";
import { en, type MessageKey } from "./en";
import { es } from "./es";
import { fr } from "./fr";

export type { MessageKey };

/** The shipped languages, in the order discovery advertises them (`ui_locales_supported`). */
export const LOCALES = ["en", "de", "fr", "es"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "en";

export const CATALOGUES: Record<Locale, Record<MessageKey, string>> = { en, de, fr, es };

export type Params = Record<string, string | number>;
export type Translate = (key: MessageKey, params?: Params) => string;

/** `t` for one locale: `{name}` placeholders are replaced by params (plain text; pages escape it). */
export function translator(locale: Locale): Translate {
  const catalogue = CATALOGUES[locale];
  return (key, params) => {
    const text = catalogue[key] ?? en[key];
    if (!params) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}

/** The placeholder names of a message ("{client}" -> ["client"]), sorted. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}

const MAX_TAGS = 20;

/** The shipped locale for one BCP 47 tag: exact, then its primary language ("es-MX" -> "es"). */
export function matchLocale(tag: string): Locale | undefined {
  const lower = tag.trim().toLowerCase().replace(/_/g, "-");
  if (!/^[a-z]{1,8}(-[a-z0-9]{1,8})*$/.test(lower)) return undefined;
  const primary = lower.split("-")[0]!;
  return (LOCALES as readonly string[]).includes(primary) ? (primary as Locale) : undefined;
}

/** `ui_locales`: space-separated tags in order of preference; the first one we ship wins. */
export function fromUiLocales(value: string | undefined | null): Locale | undefined {
  if (!value) return undefined;
  for (const tag of value.split(" ").filter(Boolean).slice(0, MAX_TAGS)) {
    const hit = matchLocale(tag);
    if (hit) return hit;
  }
  return undefined;
}

/** Accept-Language: the shipped locale with the highest q (ties keep header order; q=0 excludes). */
export function fromAcceptLanguage(header: string | undefined | null): Locale | undefined {
  if (!header) return undefined;
  const ranges = header
    .slice(0, 1024)
    .split(",")
    .slice(0, MAX_TAGS)
    .map((part, index) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => p.trim().match(/^q=([01](?:\.\d{0,3})?)$/i)).find(Boolean);
      return { tag: tag.trim(), q: q ? Number(q[1]) : 1, index };
    })
    .filter((r) => r.q > 0 && r.tag && r.tag !== "*")
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const r of ranges) {
    const hit = matchLocale(r.tag);
    if (hit) return hit;
  }
  return undefined;
}

/** The locale of a page: ui_locales, then the signed-in user's `locale` claim, then
 *  Accept-Language, then English. */
export function chooseLocale(input: { uiLocales?: string | null; userLocale?: string | null; acceptLanguage?: string | null }): Locale {
  return fromUiLocales(input.uiLocales) ?? (input.userLocale ? matchLocale(input.userLocale) : undefined) ?? fromAcceptLanguage(input.acceptLanguage) ?? DEFAULT_LOCALE;
}
