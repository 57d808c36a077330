// The pages of the password reset: ask for the address, "check your mail", choose a new password,
// done. Same frame, stylesheet and CSP as the login page (interaction/pages.ts).
import { escapeHtml as h } from "../http/html";
import { layout } from "../interaction/pages";

export function forgotPage(v: { action: string; backUrl?: string; error?: string; email?: string }): string {
  const err = v.error ? `<div class="alert" role="alert" id="forgot-error">${h(v.error)}</div>` : "";
  return layout(
    "Reset your password",
    `<h1>Reset your password</h1><p class="muted">Enter the email address of your account. We will send you a link to choose a new password.</p>${err}
<form method="post" action="${h(v.action)}" novalidate>
<label for="email">Email address</label>
<input type="text" id="email" name="email" value="${h(v.email ?? "")}" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false" required autofocus${v.error ? ' aria-describedby="forgot-error" aria-invalid="true"' : ""}>
<div class="actions"><button type="submit" class="primary">Send the link</button></div>
</form>${backLink(v.backUrl)}`,
  );
}

export function forgotSentPage(v: { backUrl?: string }): string {
  return layout(
    "Check your mail",
    `<h1>Check your mail</h1><p class="muted">If an account has this address, a link to choose a new password is on its way. It works once, for 30 minutes. No mail after a few minutes? Check the spam folder, or ask again.</p>${backLink(v.backUrl)}`,
  );
}

export function newPasswordPage(v: { action: string; token: string; minLength: number; error?: string }): string {
  const err = v.error ? `<div class="alert" role="alert" id="pw-error">${h(v.error)}</div>` : "";
  const described = v.error ? ` aria-describedby="pw-error pw-rules" aria-invalid="true"` : ` aria-describedby="pw-rules"`;
  return layout(
    "Choose a new password",
    `<h1>Choose a new password</h1>${err}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="token" value="${h(v.token)}">
<label for="new_password">New password</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" minlength="${v.minLength}" required autofocus${described}>
<p class="muted note" id="pw-rules">At least ${v.minLength} characters. Every device signed in to your account will be signed out.</p>
<label for="confirm_password">Repeat the new password</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>
<div class="actions"><button type="submit" class="primary">Set the new password</button></div>
</form>`,
  );
}

function backLink(url?: string): string {
  return url ? `<p class="links"><a href="${h(url)}">Back to sign-in</a></p>` : "";
}

/** Opening the link shows a button (a mail scanner that fetches links does not confirm anything). */
export function confirmEmailPage(v: { action: string; token: string }): string {
  return layout(
    "Confirm your email address",
    `<h1>Confirm your email address</h1><p class="muted">Confirm that this address belongs to your account.</p>
<form method="post" action="${h(v.action)}"><input type="hidden" name="token" value="${h(v.token)}">
<div class="actions"><button type="submit" class="primary" autofocus>Confirm</button></div></form>`,
  );
}
