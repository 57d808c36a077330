// The pages of the password reset: ask for the address, "check your mail", choose a new password,
// done. Same frame, stylesheet and CSP as the login page (http/page-frame.ts); texts from src/i18n.
import { escapeHtml as h } from "../http/html";
import { defaultUi, layout, type PageUi } from "../interaction/pages";
import { backLink, mailedLinkPage } from "./page-parts";

export function forgotPage(v: { action: string; backUrl?: string; error?: string; email?: string; ui?: PageUi }): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const err = v.error ? `<div class="alert" role="alert" id="forgot-error">${h(v.error)}</div>` : "";
  return layout(
    t("forgot.title"),
    `<h1>${h(t("forgot.title"))}</h1><p class="muted">${h(t("forgot.intro"))}</p>${err}
<form method="post" action="${h(v.action)}" novalidate>
<label for="email">${h(t("forgot.email"))}</label>
<input type="text" id="email" name="email" value="${h(v.email ?? "")}" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false" required autofocus${v.error ? ' aria-describedby="forgot-error" aria-invalid="true"' : ""}>
<div class="actions"><button type="submit" class="primary">${h(t("forgot.submit"))}</button></div>
</form>${backLink(ui, v.backUrl)}`,
    { ui },
  );
}

export function forgotSentPage(v: { backUrl?: string; ui?: PageUi }): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  return layout(t("forgot.sent_title"), `<h1>${h(t("forgot.sent_title"))}</h1><p class="muted">${h(t("forgot.sent_body"))}</p>${backLink(ui, v.backUrl)}`, { ui });
}

export function newPasswordPage(v: { action: string; token: string; minLength: number; error?: string; ui?: PageUi }): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const err = v.error ? `<div class="alert" role="alert" id="pw-error">${h(v.error)}</div>` : "";
  const described = v.error ? ` aria-describedby="pw-error pw-rules" aria-invalid="true"` : ` aria-describedby="pw-rules"`;
  return layout(
    t("reset.title"),
    `<h1>${h(t("reset.title"))}</h1>${err}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="token" value="${h(v.token)}">
<label for="new_password">${h(t("reset.new"))}</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" minlength="${v.minLength}" required autofocus${described}>
<p class="muted note" id="pw-rules">${h(t("reset.rules", { min: v.minLength }))}</p>
<label for="confirm_password">${h(t("reset.repeat"))}</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>
<div class="actions"><button type="submit" class="primary">${h(t("reset.submit"))}</button></div>
</form>`,
    { ui },
  );
}

/** Opening the link shows a button (a mail scanner that fetches links does not confirm anything). */
export function confirmEmailPage(v: { action: string; token: string; ui?: PageUi }): string {
  const ui = v.ui ?? defaultUi();
  return mailedLinkPage(ui, { title: "verify.title", bodyHtml: h(ui.t("verify.intro")), action: v.action, token: v.token, submit: "verify.submit" });
}
