// The sign-up pages (issue 17): the form (open or with an invite), "check your mail", the
// confirmation button of the mailed link, and "your account is ready". No JavaScript; same frame,
// stylesheet and CSP as the login page (interaction/pages.ts); every text from the catalogues in
// the page's language (ui).
import { escapeHtml as h } from "../http/html";
import { defaultUi, layout, withStrong, type PageUi } from "../interaction/pages";
import type { MessageKey } from "../i18n";
import { backLink } from "./page-parts";

export interface SignupFormView {
  action: string;
  csrf: string;
  minLength: number;
  maxLength: number;
  maxNameLength: number;
  /** Invite: the address is the invite's, shown and not editable. */
  inviteEmail?: string;
  inviteToken?: string;
  values?: { username?: string; email?: string; name?: string };
  /** Field (or "form") -> the problem's catalogue key. */
  errors?: Record<string, MessageKey>;
  backUrl?: string;
  ui?: PageUi;
}

function field(id: string, label: string, input: string, error?: string, hint?: string): string {
  const err = error ? `<p class="alert" role="alert" id="${id}-error">${h(error)}</p>` : "";
  const hintHtml = hint ? `<p class="muted note" id="${id}-hint">${h(hint)}</p>` : "";
  return `<label for="${id}">${h(label)}</label>${input}${hintHtml}${err}`;
}

function describedBy(id: string, error?: string, hint = false): string {
  const ids = [hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return `${ids ? ` aria-describedby="${ids}"` : ""}${error ? ` aria-invalid="true"` : ""}`;
}


export function signupPage(v: SignupFormView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const limits = { min: v.minLength, max: v.maxLength };
  const e: Record<string, string> = Object.fromEntries(Object.entries(v.errors ?? {}).map(([k, key]) => [k, t(key, k === "name" ? { max: v.maxNameLength } : limits)]));
  const val = v.values ?? {};
  const first = Object.keys(e)[0];
  const focus = (id: string) => ((first ? first === id : id === "username") ? " autofocus" : "");
  const email = v.inviteEmail
    ? `<label for="email">${h(t("signup.email"))}</label><input type="text" id="email" value="${h(v.inviteEmail)}" readonly aria-readonly="true"><input type="hidden" name="invite" value="${h(v.inviteToken ?? "")}">`
    : field("email", t("signup.email"), `<input type="text" id="email" name="email" value="${h(val.email ?? "")}" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false" maxlength="254" required${describedBy("email", e.email)}${focus("email")}>`, e.email);
  return layout(
    t("signup.title"),
    `<h1>${h(t("signup.title"))}</h1><p class="muted">${h(t(v.inviteEmail ? "signup.intro_invite" : "signup.intro_open"))}</p>${e.form ? `<div class="alert" role="alert">${h(e.form)}</div>` : ""}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
${field("username", t("signup.username"), `<input type="text" id="username" name="username" value="${h(val.username ?? "")}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required${describedBy("username", e.username)}${focus("username")}>`, e.username)}
${email}
${field("name", t("signup.name"), `<input type="text" id="name" name="name" value="${h(val.name ?? "")}" autocomplete="name" maxlength="${v.maxNameLength}"${describedBy("name", e.name)}${focus("name")}>`, e.name)}
${field("password", t("signup.password"), `<input type="password" id="password" name="password" autocomplete="new-password" minlength="${v.minLength}" required${describedBy("password", e.password, true)}${focus("password")}>`, e.password, t("signup.password_hint", limits))}
${field("confirm", t("signup.confirm"), `<input type="password" id="confirm" name="confirm_password" autocomplete="new-password" required${describedBy("confirm", e.confirm)}${focus("confirm")}>`, e.confirm)}
<div class="actions"><button type="submit" class="primary">${h(t("signup.submit"))}</button></div>
</form>${backLink(ui, v.backUrl)}`,
    { ui },
  );
}

export function signupSentPage(v: { backUrl?: string; hours: number; ui?: PageUi }): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  return layout(t("signup.sent_title"), `<h1>${h(t("signup.sent_title"))}</h1><p class="muted">${h(t("signup.sent_body", { hours: v.hours }))}</p>${backLink(ui, v.backUrl)}`, { ui });
}

/** Opening the mailed link shows a form (a mail scanner that fetches links creates nothing) that
 *  asks for the password chosen at sign-up: following somebody else's sign-up link creates nothing. */
export function signupConfirmPage(v: { action: string; token: string; username: string; error?: MessageKey; ui?: PageUi }): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const error = v.error ? t(v.error) : undefined;
  return layout(
    t("signup.confirm_title"),
    `<h1>${h(t("signup.confirm_title"))}</h1><p class="muted">${withStrong(ui, "signup.confirm_body", { username: v.username }, "username")}</p>
<form method="post" action="${h(v.action)}" novalidate><input type="hidden" name="token" value="${h(v.token)}">
<input type="text" name="username" value="${h(v.username)}" autocomplete="username" hidden>
${field("password", t("signup.confirm_password"), `<input type="password" id="password" name="password" autocomplete="current-password" maxlength="1024" required autofocus${describedBy("password", error)}>`, error)}
<div class="actions"><button type="submit" class="primary">${h(t("signup.confirm_submit"))}</button></div></form>`,
    { ui },
  );
}

export function accountReadyPage(v: { username: string; continueUrl?: string; continueLabel: MessageKey; unverified?: boolean; ui?: PageUi }): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const next = v.continueUrl ? `<div class="actions"><a class="button primary" href="${h(v.continueUrl)}">${h(t(v.continueLabel))}</a></div>` : `<p class="muted">${h(t("signup.ready_return"))}</p>`;
  const created = withStrong(ui, "signup.ready_created", { username: v.username }, "username");
  return layout(
    t("signup.ready_title"),
    `<h1>${h(t("signup.ready_title"))}</h1><p class="ok" role="status">${created}${v.unverified ? ` ${h(t("signup.ready_unverified"))}` : ""} ${h(t("signup.ready_signin"))}</p>${next}`,
    { ui },
  );
}
