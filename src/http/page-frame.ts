// The frame of every server-rendered page (login, consent, account, device, reset, error pages):
// one stylesheet pinned by hash in a strict CSP plus the theme stylesheet we serve ourselves
// (branding), no framing, no caching; the language and brand of the request (PageUi).
import { escapeHtml as h } from "./html";
import { translator, DEFAULT_LOCALE, type Locale, type Translate } from "../i18n";
import type { Brand } from "../branding/service";
import { DEFAULT_COLOURS, DEFAULT_PRODUCT } from "../branding/model";

/** What a page is drawn in: the request's language and the brand (server-wide or the client's). */
export interface PageUi {
  locale: Locale;
  t: Translate;
  brand: Brand;
}

/** English and the built-in look: for callers that have no request (and as a safe fallback). */
export function defaultUi(locale: Locale = DEFAULT_LOCALE, brand?: Brand): PageUi {
  return { locale, t: translator(locale), brand: brand ?? { productName: DEFAULT_PRODUCT, colours: { ...DEFAULT_COLOURS }, css: "", cssHref: "" } };
}

export const CSS = `*{box-sizing:border-box}
:root{--primary:#0b5cad;--page-bg:#f3f4f6;--text:#1f2328}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--text);background:var(--page-bg);line-height:1.5}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;padding:1.5rem}
main{width:100%;max-width:26rem;background:#fff;color:#1f2328;border:1px solid #d8dee4;border-radius:12px;box-shadow:0 4px 24px rgba(15,23,42,.06);padding:2rem}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:600;color:var(--primary);margin:0 0 1.5rem;font-size:.95rem;letter-spacing:.02em}
.brand svg{flex:none}
.brand img{height:28px;width:auto;max-width:10rem;object-fit:contain;flex:none}
.next{margin-top:.5rem}
.request-id{margin-top:1.25rem;font-size:.8125rem;color:#57606a;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
h1{font-size:1.375rem;line-height:1.3;margin:0 0 .375rem}
p{margin:0 0 1rem}
.muted{color:#57606a;font-size:.9375rem}
label{display:block;font-weight:600;font-size:.9375rem;margin:1rem 0 .375rem}
input[type=text],input[type=password]{width:100%;font:inherit;padding:.625rem .75rem;border:1px solid #8c959f;border-radius:8px;background:#fff;color:#1f2328}
input:focus,button:focus,a:focus{outline:3px solid var(--primary);outline-offset:2px}
input[aria-invalid=true]{border-color:#b42318}
.alert{border:1px solid #f1aeb5;background:#fdf0f1;color:#8a1c24;border-radius:8px;padding:.75rem .875rem;margin:1rem 0 0;font-size:.9375rem}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}
button{font:inherit;font-weight:600;border-radius:8px;padding:.6875rem 1rem;cursor:pointer;border:1px solid transparent;width:100%}
.primary{background:var(--primary);color:#fff}
.primary:hover{filter:brightness(.88)}
.secondary{background:#fff;color:#1f2328;border-color:#8c959f}
.secondary:hover{background:#f3f4f6}
.tertiary{background:none;color:var(--primary);font-weight:500;padding:.5rem;margin-top:-.5rem}
.tertiary:hover{text-decoration:underline}
.app{display:flex;align-items:center;gap:.875rem;margin:0 0 1.25rem}
.app img{width:48px;height:48px;border-radius:10px;object-fit:contain;border:1px solid #d8dee4;background:#fff}
.app .initial{width:48px;height:48px;border-radius:10px;background:#e7effa;color:var(--primary);display:flex;align-items:center;justify-content:center;font-weight:700;font-size:1.25rem;flex:none}
ul.scopes{list-style:none;padding:0;margin:1rem 0;border:1px solid #d8dee4;border-radius:8px}
ul.scopes li{padding:.75rem .875rem;border-top:1px solid #d8dee4}
ul.scopes li:first-child{border-top:0}
ul.scopes strong{display:block;font-size:.9375rem}
ul.scopes span{color:#57606a;font-size:.875rem}
.links{font-size:.875rem;color:#57606a;margin-top:1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.links a{color:var(--primary);white-space:nowrap}
footer{margin-top:1.25rem;color:#57606a;font-size:.8125rem}
.m0{margin:0}
.note{margin-top:1rem;font-size:.8125rem}
.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1.75rem;font-weight:700;letter-spacing:.12em;text-align:center;background:#f3f4f6;border:1px solid #d8dee4;border-radius:8px;padding:.5rem;margin:.25rem 0 1rem}
input.code-input{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1.25rem;letter-spacing:.1em;text-transform:uppercase}
.warn{border:1px solid #d4a72c;background:#fff8e6;color:#4d3300;border-radius:8px;padding:.75rem .875rem;margin:1rem 0;font-size:.9375rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
[hidden]{display:none!important}
input.code{font-size:1.25rem;letter-spacing:.2em;font-variant-numeric:tabular-nums}
.qr{display:block;margin:1rem auto;width:180px;height:180px}
.qr svg{width:180px;height:180px;display:block}
code.secret{display:block;font-size:1rem;overflow-wrap:anywhere;background:#f3f4f6;border-radius:8px;padding:.5rem .75rem;margin:.25rem 0 1rem}
ol.steps{padding-left:1.25rem;margin:0 0 1rem}
ul.codes{list-style:none;padding:0;margin:1rem 0;display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.5rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:1rem}
ul.codes li{background:#f3f4f6;border-radius:6px;padding:.375rem .5rem;text-align:center}
details{margin-top:1.25rem;border-top:1px solid #d8dee4;padding-top:1rem}
summary{cursor:pointer;color:var(--primary);font-weight:600}
.divider{display:flex;align-items:center;gap:.75rem;color:#57606a;font-size:.875rem;margin:1.25rem 0 0}
.divider::before,.divider::after{content:"";flex:1;border-top:1px solid #d8dee4}
a.button{display:block;width:100%;text-align:center;text-decoration:none;font-weight:600;border-radius:8px;padding:.6875rem 1rem}
main.wide{max-width:40rem}
section{border-top:1px solid #d8dee4;margin-top:1.5rem;padding-top:1rem}
h2{font-size:1.125rem;margin:0 0 .5rem}
h3{font-size:1rem;margin:1rem 0 .25rem}
ul.items{list-style:none;padding:0;margin:.5rem 0}
ul.items li{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;padding:.625rem 0;border-top:1px solid #eef0f2}
ul.items li:first-child{border-top:0}
ul.items form button{width:auto;padding:.375rem .75rem}
.ok{border:1px solid #a6d8b5;background:#eefbf2;color:#14532d;border-radius:8px;padding:.75rem .875rem;margin:1rem 0;font-size:.9375rem}`;

const CSS_HASH = `'sha256-${new Bun.CryptoHasher("sha256").update(CSS).digest("base64")}'`;

const LOGO = `<svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3Zm0 5a3 3 0 0 1 1 5.8V16h-2v-3.2A3 3 0 0 1 12 7Z"/></svg>`;

/** Headers of every page: no framing, no caching, a CSP that allows only our stylesheets (this one
 *  by hash, the theme from our origin), images inlined or over https, and form posts to this
 *  server (plus the redirect target the posts lead to). */
export function pageHeaders(formTargets: string[] = [], opts: { script?: boolean } = {}): Record<string, string> {
  const formAction = ["'self'", ...formTargets].join(" ");
  // Pages with WebAuthn load one script of ours (/assets/webauthn.js); nothing inline, no other origin.
  const script = opts.script ? " script-src 'self';" : "";
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    Pragma: "no-cache",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": `default-src 'none';${script} style-src ${CSS_HASH} 'self'; img-src https: data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
  };
}

/** The CSP source that lets a form post end in a redirect to `uri` (form-action applies to redirects). */
export function formTarget(uri: string): string {
  try {
    const u = new URL(uri);
    if (u.protocol === "http:" || u.protocol === "https:") return u.origin;
    return u.protocol;
  } catch {
    return "";
  }
}

/** The page frame; `script`: the URL of our WebAuthn script (the page's CSP must allow 'self'). */
export function layout(title: string, body: string, opts: { script?: string; wide?: boolean; ui?: PageUi } = {}): string {
  const ui = opts.ui ?? defaultUi();
  const { brand, t } = ui;
  const script = opts.script ? `<script src="${h(opts.script)}" defer></script>` : "";
  const theme = brand.cssHref ? `<link rel="stylesheet" href="${h(brand.cssHref)}">` : "";
  const mark = brand.logo ? `<img src="${h(brand.logo)}" alt="">` : LOGO;
  return `<!doctype html>
<html lang="${h(ui.locale)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${h(title)} · ${h(brand.productName)}</title><style>${CSS}</style>${theme}${script}</head>
<body><main${opts.wide ? ` class="wide"` : ""}><p class="brand">${mark}<span>${h(brand.productName)}</span></p>${body}</main><footer>${h(t("frame.footer", { product: brand.productName }))}</footer></body></html>`;
}

/** A page that tells what happened and what to do next; with the request id when there is one. */
export function problemPage(ui: PageUi, p: { title: string; body: string; next?: string; requestId?: string; details?: string }): string {
  const next = p.next ? `<p class="next">${h(p.next)}</p>` : "";
  // The technical reason (an OAuth error_description, in English) for whoever builds the application.
  const details = p.details ? `<details><summary>${h(ui.t("error.details"))}</summary><p class="muted note">${h(p.details)}</p></details>` : "";
  const id = p.requestId ? `<p class="request-id" data-request-id>${h(ui.t("error.request_id", { id: p.requestId }))}</p>` : "";
  return layout(p.title, `<h1>${h(p.title)}</h1><p class="muted">${h(p.body)}</p>${next}${details}${id}`, { ui });
}
