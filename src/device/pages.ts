// The verification page of the device flow (RFC 8628 §3.3): the code entry form, and the
// confirmation that names the client, the scopes and the code again with §5.4's phishing warning.
// Built on the login pages' layout (one stylesheet, strict CSP, no JavaScript).
import { escapeHtml as h } from "../http/html";
import { defaultUi, layout, scopeTitle, withStrong, type PageUi } from "../interaction/pages";

export interface EntryView {
  action: string;
  csrf: string;
  userCode?: string;
  error?: string;
  ui?: PageUi;
}

export function entryPage(v: EntryView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const err = v.error ? `<div class="alert" role="alert" id="code-error">${h(v.error)}</div>` : "";
  const described = v.error ? ` aria-describedby="code-error code-help" aria-invalid="true"` : ` aria-describedby="code-help"`;
  return layout(
    t("device.title"),
    `<h1>${h(t("device.title"))}</h1><p class="muted">${h(t("device.intro"))}</p>${err}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<label for="user_code">${h(t("device.code"))}</label>
<input type="text" class="code-input" id="user_code" name="user_code" value="${h(v.userCode ?? "")}" maxlength="32" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX" required autofocus${described}>
<p class="muted note" id="code-help">${h(t("device.code_help"))}</p>
<div class="actions"><button type="submit" class="primary">${h(t("common.continue"))}</button></div>
</form>`,
    { ui },
  );
}

export interface ConfirmView {
  action: string;
  csrf: string;
  deviceId: string;
  clientName: string;
  userName: string;
  userCode: string;
  scopes: { name: string; description: string }[];
  ui?: PageUi;
}

export function confirmPage(v: ConfirmView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const items = v.scopes.map((s) => `<li><strong>${h(scopeTitle(ui, s.name))}</strong><span>${h(s.description)}</span></li>`).join("");
  return layout(
    t("device.title"),
    `<div class="app"><span class="initial" aria-hidden="true">${h(v.clientName.slice(0, 1).toUpperCase())}</span><div><h1>${h(v.clientName)}</h1><p class="muted m0">${h(t("device.wants"))}</p></div></div>
<p>${withStrong(ui, "device.shows_code", { user: v.userName }, "user")}</p>
<p class="code">${h(v.userCode)}</p>
<div class="warn" id="device-warning"><strong>${h(t("device.warning_strong"))}</strong> ${h(t("device.warning_rest"))}</div>
${items ? `<p>${withStrong(ui, "device.allowing", { client: v.clientName }, "client")}</p><ul class="scopes" aria-label="${h(t("consent.permissions"))}">${items}</ul>` : ""}
<form method="post" action="${h(v.action)}" aria-describedby="device-warning">
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<input type="hidden" name="device_id" value="${h(v.deviceId)}">
<div class="actions"><button type="submit" name="decision" value="deny" class="secondary">${h(t("consent.deny"))}</button><button type="submit" name="decision" value="allow" class="primary">${h(t("consent.allow"))}</button></div>
</form>`,
    { ui },
  );
}
