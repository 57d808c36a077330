// The account page's self-service sections (issue 17): profile, email address and password forms,
// and the email-change confirmation page. Plain server-rendered forms with the session's CSRF token.
import { escapeHtml as h } from "../http/html";
import { layout } from "../interaction/pages";
import type { UserRecord } from "../accounts/model";
import { PROFILE_FIELDS } from "./profile";

export interface SelfServiceView {
  base: string;
  csrf: string;
  user: UserRecord;
  /** Mail configured: the address can be changed (a link goes to the new one). */
  emailChange: boolean;
  minLength: number;
  /** Values and problems of a profile form that was refused. */
  profile?: { values: Record<string, string>; errors: Record<string, string> };
  /** The problem of a refused email or password form. */
  emailError?: string;
  passwordError?: string;
}

const alert = (id: string, text?: string) => (text ? `<p class="alert" role="alert" id="${id}">${h(text)}</p>` : "");
const invalid = (id: string, text?: string) => (text ? ` aria-invalid="true" aria-describedby="${id}"` : "");

export function selfServiceSections(v: SelfServiceView): string {
  const a = (path: string) => `${v.base}/account${path}`;
  const csrf = `<input type="hidden" name="csrf_token" value="${h(v.csrf)}">`;
  const fields = PROFILE_FIELDS.map((f) => {
    const value = v.profile ? (v.profile.values[f.key] ?? "") : (v.user[f.key] ?? "");
    const err = v.profile?.errors[f.key];
    const hint = "hint" in f ? `<p class="muted note" id="p-${f.key}-hint">${h(f.hint)}</p>` : "";
    return `<label for="p-${f.key}">${h(f.label)}</label><input type="text" id="p-${f.key}" name="${f.key}" value="${h(value)}" maxlength="${f.max}" autocomplete="${f.autocomplete}"${invalid(`p-${f.key}-error`, err)}>${hint}${alert(`p-${f.key}-error`, err)}`;
  }).join("\n");
  const u = v.user;
  const address = u.email ? `<strong>${h(u.email)}</strong> <span class="muted">(${u.email_verified ? "confirmed" : "not confirmed"})</span>` : `<span class="muted">No address</span>`;
  // Each form sits in a <details> (no JavaScript needed), open when it was just refused.
  const open = (refused: unknown) => (refused ? " open" : "");
  const emailForm = v.emailChange
    ? `<details${open(v.emailError)}><summary>Change the address</summary><form method="post" action="${h(a("/email"))}" novalidate>${csrf}
<label for="new-email">New email address</label><input type="text" id="new-email" name="email" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false" maxlength="254" required${invalid("email-error", v.emailError)}>
<label for="email-password">Your password</label><input type="password" id="email-password" name="password" autocomplete="current-password" required>
${alert("email-error", v.emailError)}
<p class="muted note">We send a link to the new address. Your address changes only when you follow it.</p>
<div class="actions"><button type="submit" class="secondary">Change the address</button></div></form></details>`
    : `<p class="muted note">To change your address, ask your administrator.</p>`;
  return `<section aria-labelledby="profile"><h2 id="profile">Profile</h2><p class="muted">${u.name ? h(u.name) : "No name set"}</p>
<details${open(v.profile)}><summary>Edit your profile</summary><form method="post" action="${h(a("/profile"))}" novalidate>${csrf}
${fields}
<div class="actions"><button type="submit" class="primary">Save the profile</button></div></form></details></section>
<section aria-labelledby="email"><h2 id="email">Email address</h2><p>${address}</p>${emailForm}</section>
<section aria-labelledby="password"><h2 id="password">Password</h2>
<details${open(v.passwordError)}><summary>Change your password</summary><form method="post" action="${h(a("/password"))}" novalidate>${csrf}
<label for="current-password">Current password</label><input type="password" id="current-password" name="current_password" autocomplete="current-password" required${invalid("password-error", v.passwordError)}>
<label for="new-password">New password</label><input type="password" id="new-password" name="new_password" autocomplete="new-password" minlength="${v.minLength}" required aria-describedby="new-password-hint">
<p class="muted note" id="new-password-hint">At least ${v.minLength} characters. Every other device signed in to your account will be signed out.</p>
<label for="confirm-password">Repeat the new password</label><input type="password" id="confirm-password" name="confirm_password" autocomplete="new-password" required>
${alert("password-error", v.passwordError)}
<div class="actions"><button type="submit" class="secondary">Change the password</button></div></form></details></section>`;
}

/** Opening the mailed link shows a button (a mail scanner that fetches links changes nothing). */
export function confirmEmailChangePage(v: { action: string; token: string; email: string }): string {
  return layout(
    "Confirm your new email address",
    `<h1>Confirm your new email address</h1><p class="muted">Use <strong>${h(v.email)}</strong> as the address of your account.</p>
<form method="post" action="${h(v.action)}"><input type="hidden" name="token" value="${h(v.token)}">
<div class="actions"><button type="submit" class="primary" autofocus>Confirm</button></div></form>`,
  );
}
