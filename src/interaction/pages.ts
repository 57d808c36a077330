// Server-rendered login, consent and logout pages: no JavaScript but our WebAuthn script, the page
// frame of http/page-frame.ts (strict CSP, theme, language); labelled fields, a logical focus order
// and WCAG AA contrast. Every text comes from the catalogues (src/i18n) through `ui.t`.
import { escapeHtml as h } from "../http/html";
import { defaultUi, layout, type PageUi } from "../http/page-frame";
import type { MessageKey } from "../i18n";

export { formTarget, layout, pageHeaders, problemPage, defaultUi, type PageUi } from "../http/page-frame";

export interface LoginView {
  action: string;
  cancelAction: string;
  csrf: string;
  clientName: string;
  /** The client's logo, already inlined as a data: URI (branding/logo.ts), or none. */
  clientLogo?: string;
  login?: string;
  error?: string;
  /** Sign-in with a passkey (WebAuthn, needs our script): where the assertion is posted. */
  passkey?: { action: string; challenge: string; rpId: string; script: string };
  /** Upstream identity providers: a link each, starting the sign-in there (src/authn/upstream/). */
  upstream?: { name: string; href: string }[];
  /** "Forgot password?" (only with mail configured). */
  forgotUrl?: string;
  /** "Create an account" (only when open sign-up is offered). */
  signupUrl?: string;
  ui?: PageUi;
}

/** The application's icon: its inlined logo, else its initial (never a remote or broken image). */
export function appIcon(name: string, logo?: string): string {
  return logo && logo.startsWith("data:image/") ? `<img src="${h(logo)}" alt="" width="48" height="48">` : `<span class="initial" aria-hidden="true">${h(name.slice(0, 1).toUpperCase())}</span>`;
}

export function loginPage(v: LoginView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const err = v.error ? `<div class="alert" role="alert" id="login-error">${h(v.error)}</div>` : "";
  const described = v.error ? ` aria-describedby="login-error" aria-invalid="true"` : "";
  // Focus lands on the first empty field (password when the login is prefilled by login_hint).
  const focusLogin = !v.login ? " autofocus" : "";
  const focusPassword = v.login ? " autofocus" : "";
  const head = v.clientLogo
    ? `<div class="app">${appIcon(v.clientName, v.clientLogo)}<div><h1>${h(t("login.title"))}</h1><p class="muted m0">${withStrong(ui, "login.to_continue", { client: v.clientName }, "client")}</p></div></div>`
    : `<h1>${h(t("login.title"))}</h1><p class="muted">${withStrong(ui, "login.to_continue", { client: v.clientName }, "client")}</p>`;
  return layout(
    t("login.title"),
    `${head}${err}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<label for="login">${h(t("login.username"))}</label>
<input type="text" id="login" name="login" value="${h(v.login ?? "")}" autocomplete="${v.passkey ? "username webauthn" : "username"}" autocapitalize="none" spellcheck="false" required${described}${focusLogin}>
<label for="password">${h(t("login.password"))}</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${described}${focusPassword}>
<div class="actions"><button type="submit" class="primary">${h(t("login.submit"))}</button></div>
</form>${v.forgotUrl || v.signupUrl ? `<p class="links">${v.forgotUrl ? `<a href="${h(v.forgotUrl)}">${h(t("login.forgot"))}</a>` : ""}${v.signupUrl ? `<a href="${h(v.signupUrl)}">${h(t("login.signup"))}</a>` : ""}</p>` : ""}${v.passkey ? passkeyForm(ui, v.passkey, v.csrf) : ""}${upstreamLinks(ui, v.upstream)}
<form method="post" action="${h(v.cancelAction)}"><input type="hidden" name="csrf_token" value="${h(v.csrf)}"><div class="actions"><button type="submit" class="tertiary" aria-label="${h(t("common.cancel_return", { client: v.clientName }))}">${h(t("common.cancel"))}</button></div></form>`,
    { script: v.passkey?.script, ui },
  );
}

/** "Sign in with <provider>": plain links (a GET starts the upstream flow of this interaction). */
function upstreamLinks(ui: PageUi, list: LoginView["upstream"]): string {
  if (!list?.length) return "";
  const { t } = ui;
  return `
<section aria-label="${h(t("login.other_ways"))}" class="upstream"><p class="divider">${h(t("frame.or"))}</p>${list.map((p) => `<div class="actions"><a class="button secondary" href="${h(p.href)}">${h(t("login.with_provider", { provider: p.name }))}</a></div>`).join("")}</section>`;
}

/** The passkey sign-in form: hidden until our script finds WebAuthn; conditional mediation offers
 *  passkeys in the username field's autofill, the button asks for one directly. */
function passkeyForm(ui: PageUi, p: NonNullable<LoginView["passkey"]>, csrf: string): string {
  const { t } = ui;
  return `
<form method="post" action="${h(p.action)}" data-webauthn="get" data-challenge="${h(p.challenge)}" data-rp-id="${h(p.rpId)}" data-conditional="true" data-error="${h(t("webauthn.failed"))}" hidden>
<input type="hidden" name="csrf_token" value="${h(csrf)}"><input type="hidden" name="credential" value="">
<p class="divider">${h(t("frame.or"))}</p>
<p class="alert" role="alert" data-webauthn-status hidden></p>
<div class="actions"><button type="button" class="secondary" data-webauthn-start>${h(t("login.with_passkey"))}</button></div>
</form>`;
}

/** A message with one value in bold: the catalogue text is escaped, then the value put in its place. */
export function withStrong(ui: PageUi, key: MessageKey, params: Record<string, string | number>, strong: string): string {
  const marker = "\u0000";
  return h(ui.t(key, { ...params, [strong]: marker })).replace(marker, `<strong>${h(String(params[strong] ?? ""))}</strong>`);
}

export interface PasswordChangeView {
  action: string;
  cancelAction: string;
  csrf: string;
  userName: string;
  minLength: number;
  error?: string;
  ui?: PageUi;
}

/** Shown after a correct login when the account must choose a new password first. */
export function passwordChangePage(v: PasswordChangeView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const err = v.error ? `<div class="alert" role="alert" id="pw-error">${h(v.error)}</div>` : "";
  const described = v.error ? ` aria-describedby="pw-error pw-rules" aria-invalid="true"` : ` aria-describedby="pw-rules"`;
  return layout(
    t("pwchange.title"),
    `<h1>${h(t("pwchange.title"))}</h1><p class="muted">${withStrong(ui, "pwchange.intro", { user: v.userName }, "user")}</p>${err}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<label for="current_password">${h(t("pwchange.current"))}</label>
<input type="password" id="current_password" name="current_password" autocomplete="current-password" required autofocus>
<label for="new_password">${h(t("pwchange.new"))}</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" minlength="${v.minLength}" required${described}>
<p class="muted note" id="pw-rules">${h(t("pwchange.rules", { min: v.minLength }))}</p>
<label for="confirm_password">${h(t("pwchange.repeat"))}</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>
<div class="actions"><button type="submit" class="primary">${h(t("pwchange.submit"))}</button></div>
</form>
<form method="post" action="${h(v.cancelAction)}"><input type="hidden" name="csrf_token" value="${h(v.csrf)}"><div class="actions"><button type="submit" class="tertiary">${h(t("common.cancel"))}</button></div></form>`,
    { ui },
  );
}

export interface ConsentView {
  action: string;
  switchAction: string;
  csrf: string;
  client: { name: string; logoUri?: string | null; clientUri?: string | null; policyUri?: string | null; tosUri?: string | null };
  /** The client's logo inlined as a data: URI (branding/logo.ts); logoUri itself is never hot-linked. */
  clientLogo?: string;
  userName: string;
  scopes: { name: string; description: string }[];
  extraClaims: string[];
  /** The APIs (RFC 8707 resources) the application will call on the user's behalf. */
  apis?: { name: string; identifier: string }[];
  ui?: PageUi;
}

const SCOPE_KEYS: Record<string, MessageKey> = {
  openid: "scope.openid",
  profile: "scope.profile",
  email: "scope.email",
  address: "scope.address",
  phone: "scope.phone",
  offline_access: "scope.offline_access",
};

/** Plain-language title of a standard scope in the page's language; other scopes show their name. */
export function scopeTitle(ui: PageUi, scope: string): string {
  const key = SCOPE_KEYS[scope];
  return key ? ui.t(key) : scope;
}

function safeUrl(uri: string | null | undefined, schemes = ["https:"]): string | undefined {
  if (!uri) return undefined;
  try {
    return schemes.includes(new URL(uri).protocol) ? uri : undefined;
  } catch {
    return undefined;
  }
}

export function consentPage(v: ConsentView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const logo = v.clientLogo ?? (v.client.logoUri?.startsWith("data:image/") ? v.client.logoUri : undefined);
  const links = [
    [safeUrl(v.client.clientUri, ["https:", "http:"]), t("consent.about", { client: v.client.name })],
    [safeUrl(v.client.policyUri, ["https:", "http:"]), t("consent.privacy")],
    [safeUrl(v.client.tosUri, ["https:", "http:"]), t("consent.terms")],
  ]
    .filter(([u]) => u)
    .map(([u, label]) => `<a href="${h(u)}" rel="noopener noreferrer" target="_blank">${h(label)}</a>`)
    .join("");
  const items = v.scopes.map((s) => `<li><strong>${h(scopeTitle(ui, s.name))}</strong><span>${h(s.description)}</span></li>`).join("");
  const extra = v.extraClaims.length ? `<li><strong>${h(t("consent.additional"))}</strong><span>${h(v.extraClaims.join(", "))}</span></li>` : "";
  const apiList = v.apis?.map((a) => `<strong title="${h(a.identifier)}">${h(a.name)}</strong>`).join(", ");
  const apis = apiList ? `<p>${h(t("consent.with_access_to", { apis: "\u0000" })).replace("\u0000", apiList)}</p>` : "";
  const intro = h(t("consent.signed_in_as", { user: "\u0000", client: "\u0001" }))
    .replace("\u0000", `<strong>${h(v.userName)}</strong>`)
    .replace("\u0001", `<strong>${h(v.client.name)}</strong>`);
  return layout(
    t("consent.title"),
    `<div class="app">${appIcon(v.client.name, logo)}<div><h1>${h(v.client.name)}</h1><p class="muted m0">${h(t("consent.wants"))}</p></div></div>
<p>${intro}</p>
<ul class="scopes" aria-label="${h(t("consent.permissions"))}">${items}${extra}</ul>${apis}
<form method="post" action="${h(v.action)}">
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<div class="actions"><button type="submit" name="decision" value="deny" class="secondary">${h(t("consent.deny"))}</button><button type="submit" name="decision" value="allow" class="primary" autofocus>${h(t("consent.allow"))}</button></div>
</form>
<form method="post" action="${h(v.switchAction)}"><input type="hidden" name="csrf_token" value="${h(v.csrf)}"><div class="actions"><button type="submit" class="tertiary">${h(t("consent.switch"))}</button></div></form>
${links ? `<p class="links">${links}</p>` : ""}<p class="muted note">${h(t("consent.revocable"))}</p>`,
    { ui },
  );
}

export interface LogoutView {
  action: string;
  csrf: string;
  clientName?: string;
  hidden: Record<string, string | undefined>;
  ui?: PageUi;
}

export function logoutConfirmPage(v: LogoutView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const hidden = Object.entries(v.hidden)
    .filter(([, val]) => val !== undefined)
    .map(([k, val]) => `<input type="hidden" name="${h(k)}" value="${h(val)}">`)
    .join("");
  const from = v.clientName ? ` ${withStrong(ui, "logout.asked_by", { client: v.clientName }, "client")}` : "";
  return layout(
    t("logout.title"),
    `<h1>${h(t("logout.question"))}</h1><p class="muted">${h(t("logout.signed_in", { product: ui.brand.productName }))}${from} ${h(t("logout.confirm"))}</p>
<form method="post" action="${h(v.action)}"><input type="hidden" name="csrf_token" value="${h(v.csrf)}">${hidden}
<div class="actions"><button type="submit" name="logout" value="no" class="secondary">${h(t("logout.stay"))}</button><button type="submit" name="logout" value="yes" class="primary" autofocus>${h(t("logout.submit"))}</button></div></form>`,
    { ui },
  );
}

export function messagePage(title: string, message: string, ui?: PageUi): string {
  return layout(title, `<h1>${h(title)}</h1><p class="muted">${h(message)}</p>`, { ui });
}
