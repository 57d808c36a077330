// The account page's self-service sections (issue 17): profile, email address and password forms,
// and the email-change confirmation page. Plain server-rendered forms with the session's CSRF token,
// every text from the catalogues in the page's language (ui).
import { escapeHtml as h } from "../http/html";
import { defaultUi, withStrong, type PageUi } from "../interaction/pages";
import type { UserRecord } from "../accounts/model";
import type { MessageKey } from "../i18n";
import { mailedLinkPage } from "./page-parts";
import { PROFILE_FIELDS, type ProfileErrors } from "./profile";

export interface SelfServiceView {
  base: string;
  csrf: string;
  user: UserRecord;
  /** Mail configured: the address can be changed (a link goes to the new one). */
  emailChange: boolean;
  minLength: number;
  maxLength: number;
  /** Values and problems of a profile form that was refused. */
  profile?: { values: Record<string, string>; errors: ProfileErrors };
  /** The problem of a refused email or password form. */
  emailError?: MessageKey;
  passwordError?: MessageKey;
  ui?: PageUi;
}

const alert = (id: string, text?: string) => (text ? `<p class="alert" role="alert" id="${id}">${h(text)}</p>` : "");
const invalid = (id: string, text?: string) => (text ? ` aria-invalid="true" aria-describedby="${id}"` : "");

export function selfServiceSections(v: SelfServiceView): string {
  const { t } = v.ui ?? defaultUi();
  const limits = { min: v.minLength, max: v.maxLength };
  const emailError = v.emailError && t(v.emailError, limits);
  const passwordError = v.passwordError && t(v.passwordError, limits);
  const a = (path: string) => `${v.base}/account${path}`;
  const csrf = `<input type="hidden" name="csrf_token" value="${h(v.csrf)}">`;
  const fields = PROFILE_FIELDS.map((f) => {
    const value = v.profile ? (v.profile.values[f.key] ?? "") : (v.user[f.key] ?? "");
    const errKey = v.profile?.errors[f.key];
    const err = errKey && t(errKey, { max: f.max });
    const hint = "hint" in f ? `<p class="muted note" id="p-${f.key}-hint">${h(t(f.hint))}</p>` : "";
    return `<label for="p-${f.key}">${h(t(f.label))}</label><input type="text" id="p-${f.key}" name="${f.key}" value="${h(value)}" maxlength="${f.max}" autocomplete="${f.autocomplete}"${invalid(`p-${f.key}-error`, err)}>${hint}${alert(`p-${f.key}-error`, err)}`;
  }).join("\n");
  const u = v.user;
  const address = u.email ? `<strong>${h(u.email)}</strong> <span class="muted">(${h(t(u.email_verified ? "email.confirmed" : "email.unconfirmed"))})</span>` : `<span class="muted">${h(t("email.none"))}</span>`;
  // Each form sits in a <details> (no JavaScript needed), open when it was just refused.
  const open = (refused: unknown) => (refused ? " open" : "");
  const emailForm = v.emailChange
    ? `<details${open(emailError)}><summary>${h(t("email.change"))}</summary><form method="post" action="${h(a("/email"))}" novalidate>${csrf}
<label for="new-email">${h(t("email.new"))}</label><input type="text" id="new-email" name="email" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false" maxlength="254" required${invalid("email-error", emailError)}>
<label for="email-password">${h(t("email.password"))}</label><input type="password" id="email-password" name="password" autocomplete="current-password" required>
${alert("email-error", emailError)}
<p class="muted note">${h(t("email.note"))}</p>
<div class="actions"><button type="submit" class="secondary">${h(t("email.change"))}</button></div></form></details>`
    : `<p class="muted note">${h(t("email.ask_admin"))}</p>`;
  return `<section aria-labelledby="profile"><h2 id="profile">${h(t("profile.title"))}</h2><p class="muted">${u.name ? h(u.name) : h(t("profile.no_name"))}</p>
<details${open(v.profile)}><summary>${h(t("profile.edit"))}</summary><form method="post" action="${h(a("/profile"))}" novalidate>${csrf}
${fields}
<div class="actions"><button type="submit" class="primary">${h(t("profile.save"))}</button></div></form></details></section>
<section aria-labelledby="email"><h2 id="email">${h(t("email.title"))}</h2><p>${address}</p>${emailForm}</section>
<section aria-labelledby="password"><h2 id="password">${h(t("password.title"))}</h2>
<details${open(passwordError)}><summary>${h(t("password.change"))}</summary><form method="post" action="${h(a("/password"))}" novalidate>${csrf}
<label for="current-password">${h(t("password.current"))}</label><input type="password" id="current-password" name="current_password" autocomplete="current-password" required${invalid("password-error", passwordError)}>
<label for="new-password">${h(t("password.new"))}</label><input type="password" id="new-password" name="new_password" autocomplete="new-password" minlength="${v.minLength}" required aria-describedby="new-password-hint">
<p class="muted note" id="new-password-hint">${h(t("password.hint", limits))}</p>
<label for="confirm-password">${h(t("password.repeat"))}</label><input type="password" id="confirm-password" name="confirm_password" autocomplete="new-password" required>
${alert("password-error", passwordError)}
<div class="actions"><button type="submit" class="secondary">${h(t("password.submit"))}</button></div></form></details></section>`;
}

/** Opening the mailed link shows a button (a mail scanner that fetches links changes nothing). */
export function confirmEmailChangePage(v: { action: string; token: string; email: string; ui?: PageUi }): string {
  const ui = v.ui ?? defaultUi();
  return mailedLinkPage(ui, { title: "email_change.confirm_title", bodyHtml: withStrong(ui, "email_change.confirm_body", { email: v.email }, "email"), action: v.action, token: v.token, submit: "email_change.confirm_submit" });
}
