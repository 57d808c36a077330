// The sign-up pages (issue 17): the form (open or with an invite), "check your mail", the
// confirmation button of the mailed link, and "your account is ready". No JavaScript; same frame,
// stylesheet and CSP as the login page (interaction/pages.ts).
import { escapeHtml as h } from "../http/html";
import { layout } from "../interaction/pages";

export interface SignupFormView {
  action: string;
  csrf: string;
  minLength: number;
  /** Invite: the address is the invite's, shown and not editable. */
  inviteEmail?: string;
  inviteToken?: string;
  values?: { username?: string; email?: string; name?: string };
  errors?: Record<string, string>;
  backUrl?: string;
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
  const e = v.errors ?? {};
  const val = v.values ?? {};
  const first = Object.keys(e)[0];
  const focus = (id: string) => ((first ? first === id : id === "username") ? " autofocus" : "");
  const email = v.inviteEmail
    ? `<label for="email">Email address</label><input type="text" id="email" value="${h(v.inviteEmail)}" readonly aria-readonly="true"><input type="hidden" name="invite" value="${h(v.inviteToken ?? "")}">`
    : field("email", "Email address", `<input type="text" id="email" name="email" value="${h(val.email ?? "")}" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false" maxlength="254" required${describedBy("email", e.email)}${focus("email")}>`, e.email);
  return layout(
    "Create an account",
    `<h1>Create an account</h1><p class="muted">${v.inviteEmail ? "You were invited. Choose a username and a password." : "We will send a link to your address to confirm it."}</p>${e.form ? `<div class="alert" role="alert">${h(e.form)}</div>` : ""}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
${field("username", "Username", `<input type="text" id="username" name="username" value="${h(val.username ?? "")}" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required${describedBy("username", e.username)}${focus("username")}>`, e.username)}
${email}
${field("name", "Your name (optional)", `<input type="text" id="name" name="name" value="${h(val.name ?? "")}" autocomplete="name" maxlength="200"${describedBy("name", e.name)}${focus("name")}>`, e.name)}
${field("password", "Password", `<input type="password" id="password" name="password" autocomplete="new-password" minlength="${v.minLength}" required${describedBy("password", e.password, true)}${focus("password")}>`, e.password, `At least ${v.minLength} characters.`)}
${field("confirm", "Repeat the password", `<input type="password" id="confirm" name="confirm_password" autocomplete="new-password" required${describedBy("confirm", e.confirm)}${focus("confirm")}>`, e.confirm)}
<div class="actions"><button type="submit" class="primary">Create the account</button></div>
</form>${v.backUrl ? `<p class="links"><a href="${h(v.backUrl)}">Back to sign-in</a></p>` : ""}`,
  );
}

export function signupSentPage(v: { backUrl?: string }): string {
  return layout(
    "Check your mail",
    `<h1>Check your mail</h1><p class="muted">We sent a message to the address you gave. Follow its link within 24 hours to confirm the address and finish creating your account. No mail after a few minutes? Check the spam folder, or sign up again.</p>${v.backUrl ? `<p class="links"><a href="${h(v.backUrl)}">Back to sign-in</a></p>` : ""}`,
  );
}

/** Opening the mailed link shows a button (a mail scanner that fetches links creates nothing). */
export function signupConfirmPage(v: { action: string; token: string; username: string }): string {
  return layout(
    "Confirm your account",
    `<h1>Confirm your account</h1><p class="muted">Create the account <strong>${h(v.username)}</strong> with this address.</p>
<form method="post" action="${h(v.action)}"><input type="hidden" name="token" value="${h(v.token)}">
<div class="actions"><button type="submit" class="primary" autofocus>Create my account</button></div></form>`,
  );
}

export function accountReadyPage(v: { username: string; continueUrl?: string; continueLabel: string; unverified?: boolean }): string {
  const next = v.continueUrl ? `<div class="actions"><a class="button primary" href="${h(v.continueUrl)}">${h(v.continueLabel)}</a></div>` : `<p class="muted">Return to the application and sign in.</p>`;
  return layout(
    "Your account is ready",
    `<h1>Your account is ready</h1><p class="ok" role="status">The account <strong>${h(v.username)}</strong> was created.${v.unverified ? " Confirm your email address with the link we sent when you can." : ""} Sign in with your username and password.</p>${next}`,
  );
}
