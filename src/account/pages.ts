// The account page (/account): sign-in methods (authenticator app, recovery codes, passkeys),
// sessions and the applications with access. Server-rendered forms with the session's CSRF token;
// only adding a passkey needs our script (WebAuthn). Same layout and CSP as the login pages.
import { escapeHtml as h } from "../http/html";
import { defaultUi, layout, withStrong, type PageUi } from "../interaction/pages";
import type { AccountOverview } from "./service";

export interface AccountView {
  base: string;
  csrf: string;
  userName: string;
  overview: AccountOverview;
  /** A done or error message after a form post (fixed texts, chosen by code). */
  notice?: { kind: "ok" | "error"; text: string };
  /** Profile, email address and password forms (self-service-pages.ts), already rendered. */
  selfService?: string;
  /** Adding a passkey (WebAuthn §5.4 creation options). */
  /** Identities linked at upstream providers, and the providers one may link (src/authn/upstream/). */
  identities?: { linked: { id: string; provider: string; email: string | null; createdAt: Date; lastUsedAt: Date | null }[]; linkable: { name: string; href: string }[] };
  register?: { challenge: string; rpId: string; rpName: string; userId: string; userName: string; userDisplayName: string; exclude: string[]; script: string };
  ui?: PageUi;
}

const fmtIn = (ui: PageUi) => (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace("T", " ")} UTC` : ui.t("common.never"));

function button(action: string, csrf: string, label: string, cls = "secondary", aria?: string): string {
  return `<form method="post" action="${h(action)}"><input type="hidden" name="csrf_token" value="${h(csrf)}"><button type="submit" class="${cls}"${aria ? ` aria-label="${h(aria)}"` : ""}>${h(label)}</button></form>`;
}

/** A short name for a browser's user agent (for people, not for decisions). */
function device(ui: PageUi, ua: string | null): string {
  if (!ua) return ui.t("account.unknown_device");
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : ua.slice(0, 40);
  const os = /Windows/.test(ua) ? "Windows" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? ui.t("account.device_on", { browser, os }) : browser;
}

export function accountPage(v: AccountView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const fmt = fmtIn(ui);
  const o = v.overview;
  const a = (path: string) => `${v.base}/account${path}`;
  const notice = v.notice ? `<div class="${v.notice.kind === "ok" ? "ok" : "alert"}" role="${v.notice.kind === "ok" ? "status" : "alert"}">${h(v.notice.text)}</div>` : "";
  const second = o.totp || o.passkeys.length > 0;

  const totp = `<li><div><strong>${h(t("account.totp"))}</strong><br><span class="muted">${h(o.totp ? t("account.totp_on") : t("account.totp_off"))}</span></div>
${o.totp ? button(a("/totp/remove"), v.csrf, t("common.remove"), "secondary", t("account.totp_remove_aria")) : button(a("/totp/start"), v.csrf, t("account.totp_setup"), "primary", t("account.totp_setup_aria"))}</li>`;
  const recovery = second
    ? `<li><div><strong>${h(t("account.recovery"))}</strong><br><span class="muted">${h(t("account.recovery_left", { left: o.recoveryLeft }))}</span></div>${button(a("/recovery/regenerate"), v.csrf, t("account.recovery_new"), "secondary", t("account.recovery_new_aria"))}</li>`
    : "";
  const passkeys = o.passkeys
    .map((p) => `<li><div><strong>${h(p.name)}</strong><br><span class="muted">${h(p.passkey ? t("account.passkey") : t("account.security_key"))} · ${h(t("account.added_used", { added: fmt(p.createdAt), used: fmt(p.lastUsedAt) }))}</span></div>${button(a(`/passkeys/${encodeURIComponent(p.id)}/remove`), v.csrf, t("common.remove"), "secondary", t("account.remove_named", { name: p.name }))}</li>`)
    .join("");
  const r = v.register;
  const add = r
    ? `<form method="post" action="${h(a("/passkeys"))}" data-webauthn="create" data-challenge="${h(r.challenge)}" data-rp-id="${h(r.rpId)}" data-rp-name="${h(r.rpName)}" data-user-id="${h(r.userId)}" data-user-name="${h(r.userName)}" data-user-display-name="${h(r.userDisplayName)}" data-exclude="${h(r.exclude.join(","))}" data-error="${h(t("notice.passkey_failed"))}" hidden>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}"><input type="hidden" name="credential" value="">
<label for="passkey-name">${h(t("account.passkey_name"))}</label>
<input type="text" id="passkey-name" name="name" maxlength="64" placeholder="${h(t("account.passkey_placeholder"))}" autocomplete="off">
<p class="alert" role="alert" data-webauthn-status hidden></p>
<div class="actions"><button type="submit" class="primary" data-webauthn-start>${h(t("account.passkey_add"))}</button></div></form>
<noscript><p class="muted note">${h(t("account.passkey_needs_js"))}</p></noscript>`
    : "";

  const sessions = o.sessions
    .map((s) => `<li><div><strong>${h(device(ui, s.userAgent))}</strong>${s.current ? ` <span class="muted">${h(t("account.this_browser"))}</span>` : ""}<br><span class="muted">${h(s.ip ?? "")} · ${h(t("account.session_times", { signed: fmt(s.authTime), seen: fmt(s.lastSeen) }))}</span></div>${button(a(`/sessions/${s.id}/end`), v.csrf, s.current ? t("account.sign_out") : t("account.end"), "secondary", s.current ? t("account.sign_out_aria") : t("account.end_aria", { device: device(ui, s.userAgent) }))}</li>`)
    .join("");
  const consents = o.consents.length
    ? o.consents.map((c) => `<li><div><strong>${h(c.clientName)}</strong><br><span class="muted">${h(c.scopes.join(", "))}</span></div>${button(a(`/consents/${encodeURIComponent(c.clientId)}/revoke`), v.csrf, t("account.revoke"), "secondary", t("account.revoke_aria", { client: c.clientName }))}</li>`).join("")
    : `<li><span class="muted">${h(t("account.no_apps"))}</span></li>`;

  return layout(
    t("account.title"),
    `<h1>${h(t("account.title"))}</h1><p class="muted">${withStrong(ui, "account.signed_in_as", { user: v.userName }, "user")}</p>${notice}
${v.selfService ?? ""}
<section aria-labelledby="methods"><h2 id="methods">${h(t("account.methods"))}</h2><ul class="items">${totp}${recovery}</ul>
<h3 class="m0">${h(t("account.passkeys"))}</h3><ul class="items" aria-label="${h(t("account.passkeys"))}">${passkeys || `<li><span class="muted">${h(t("common.none_yet"))}</span></li>`}</ul>${add}</section>
${linkedSection(v, ui, a)}
<section aria-labelledby="sessions"><h2 id="sessions">${h(t("account.sessions"))}</h2><ul class="items">${sessions}</ul>${o.sessions.some((s) => !s.current) ? button(a("/sessions/end-others"), v.csrf, t("account.end_others"), "secondary", t("account.end_others_aria")) : ""}</section>
<section aria-labelledby="apps"><h2 id="apps">${h(t("account.apps"))}</h2><ul class="items">${consents}</ul></section>`,
    { script: r?.script, wide: true, ui },
  );
}

/** Sign-ins through upstream providers: the linked identities (removable) and "Link" per provider. */
function linkedSection(v: AccountView, ui: PageUi, a: (path: string) => string): string {
  const { t } = ui;
  const fmt = fmtIn(ui);
  const ids = v.identities;
  if (!ids || (!ids.linked.length && !ids.linkable.length)) return "";
  const linked = ids.linked
    .map((i) => `<li><div><strong>${h(i.provider)}</strong>${i.email ? ` <span class="muted">${h(i.email)}</span>` : ""}<br><span class="muted">${h(t("account.linked_times", { linked: fmt(i.createdAt), used: fmt(i.lastUsedAt) }))}</span></div>${button(a(`/identities/${encodeURIComponent(i.id)}/remove`), v.csrf, t("common.remove"), "secondary", t("account.linked_remove_aria", { provider: i.provider }))}</li>`)
    .join("");
  const links = ids.linkable.map((p) => `<li><span>${h(p.name)}</span><a class="button secondary" href="${h(p.href)}" aria-label="${h(t("account.link_aria", { provider: p.name }))}">${h(t("account.link"))}</a></li>`).join("");
  return `<section aria-labelledby="linked"><h2 id="linked">${h(t("account.linked"))}</h2><ul class="items" aria-label="${h(t("account.linked"))}">${linked || `<li><span class="muted">${h(t("common.none_yet"))}</span></li>`}</ul>${links ? `<h3 class="m0">${h(t("account.link_another"))}</h3><ul class="items" aria-label="${h(t("account.linkable"))}">${links}</ul>` : ""}</section>`;
}
