// Pages of the second step of a sign-in: a second factor (TOTP code, security key or passkey,
// recovery code), the enrolment of an authenticator app when a policy requires one, and the recovery
// codes shown once. Server-rendered, usable without JavaScript except for WebAuthn; labelled fields,
// errors in role=alert, focus on the field to fill.
import { escapeHtml as h } from "../http/html";
import { defaultUi, layout, withStrong, type PageUi } from "./pages";

export interface WebAuthnGet {
  action: string;
  challenge: string;
  rpId: string;
  /** Credential ids the user may use (empty: any discoverable one). */
  allow: string[];
  userVerification: "required" | "preferred" | "discouraged";
  script: string;
}

export interface FactorView {
  action: string;
  cancelAction: string;
  csrf: string;
  clientName: string;
  userName: string;
  /** Only a passkey or security key will do (acr phr). */
  phishingResistant: boolean;
  totp: boolean;
  recovery: boolean;
  webauthn?: WebAuthnGet;
  error?: string;
  /** Which form the error belongs to (its field gets focus and aria-invalid). */
  errorFor?: "totp" | "recovery";
  ui?: PageUi;
}

function csrfField(csrf: string): string {
  return `<input type="hidden" name="csrf_token" value="${h(csrf)}">`;
}

function webauthnGetForm(ui: PageUi, w: WebAuthnGet, csrf: string, label: string, cls = "primary"): string {
  return `<form method="post" action="${h(w.action)}" data-webauthn="get" data-challenge="${h(w.challenge)}" data-rp-id="${h(w.rpId)}" data-allow="${h(w.allow.join(","))}" data-uv="${h(w.userVerification)}" data-error="${h(ui.t("webauthn.failed"))}" hidden>
${csrfField(csrf)}<input type="hidden" name="credential" value="">
<p class="alert" role="alert" data-webauthn-status hidden></p>
<div class="actions"><button type="button" class="${cls}" data-webauthn-start>${h(label)}</button></div>
</form>`;
}

export function factorPage(v: FactorView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const err = (f: "totp" | "recovery") => (v.error && v.errorFor === f ? `<div class="alert" role="alert" id="${f}-error">${h(v.error)}</div>` : "");
  const invalid = (f: "totp" | "recovery") => (v.error && v.errorFor === f ? ` aria-invalid="true" aria-describedby="${f}-error"` : "");
  const parts: string[] = [];
  if (v.phishingResistant) {
    parts.push(`<p>${h(t("factor.phr_needed", { client: v.clientName }))}</p>`);
    if (v.webauthn) parts.push(webauthnGetForm(ui, v.webauthn, v.csrf, t("factor.use_passkey")));
    parts.push(`<noscript><p class="alert" role="alert">${h(t("factor.needs_js"))}</p></noscript>`);
  } else {
    if (v.totp) {
      parts.push(`${err("totp")}<form method="post" action="${h(v.action)}" novalidate>${csrfField(v.csrf)}<input type="hidden" name="method" value="totp">
<label for="totp-code">${h(t("factor.totp_label"))}</label>
<input type="text" id="totp-code" name="code" class="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required aria-describedby="totp-help"${invalid("totp")}${v.errorFor !== "recovery" ? " autofocus" : ""}>
<p class="muted note" id="totp-help">${h(t("factor.totp_help", { product: ui.brand.productName }))}</p>
<div class="actions"><button type="submit" class="primary">${h(t("factor.verify"))}</button></div></form>`);
    }
    if (v.webauthn) {
      if (v.totp) parts.push(`<p class="divider">${h(t("frame.or"))}</p>`);
      parts.push(webauthnGetForm(ui, v.webauthn, v.csrf, t("factor.use_key"), v.totp ? "secondary" : "primary"));
    }
    if (v.recovery) {
      parts.push(`<details${v.errorFor === "recovery" ? " open" : ""}><summary>${h(t("factor.use_recovery"))}</summary>${err("recovery")}
<form method="post" action="${h(v.action)}" novalidate>${csrfField(v.csrf)}<input type="hidden" name="method" value="recovery">
<label for="recovery-code">${h(t("factor.recovery_label"))}</label>
<input type="text" id="recovery-code" name="code" class="code" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="16" required${invalid("recovery")}${v.errorFor === "recovery" ? " autofocus" : ""}>
<p class="muted note">${h(t("factor.recovery_once"))}</p>
<div class="actions"><button type="submit" class="secondary">${h(t("factor.recovery_submit"))}</button></div></form></details>`);
    }
  }
  return layout(
    t("factor.title"),
    `<h1>${h(t("factor.title"))}</h1><p class="muted">${withStrong(ui, "factor.intro", { user: v.userName, client: "\u0001" }, "user").replace("\u0001", `<strong>${h(v.clientName)}</strong>`)}</p>
${parts.join("\n")}
<form method="post" action="${h(v.cancelAction)}">${csrfField(v.csrf)}<div class="actions"><button type="submit" class="tertiary" aria-label="${h(t("common.cancel_return", { client: v.clientName }))}">${h(t("common.cancel"))}</button></div></form>`,
    { script: v.webauthn?.script, ui },
  );
}

export interface EnrolView {
  action: string;
  cancelAction?: string;
  csrf: string;
  /** Why the page is shown (a policy, or the user's own choice on the account page). */
  intro: string;
  qrSvg: string;
  secret: string;
  error?: string;
  ui?: PageUi;
}

/** Set up an authenticator app: scan the QR code or type the secret, then confirm with a code. */
export function enrolPage(v: EnrolView): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  const err = v.error ? `<div class="alert" role="alert" id="enrol-error">${h(v.error)}</div>` : "";
  const invalid = v.error ? ` aria-invalid="true" aria-describedby="enrol-error enrol-help"` : ` aria-describedby="enrol-help"`;
  const cancel = v.cancelAction ? `<form method="post" action="${h(v.cancelAction)}">${csrfField(v.csrf)}<div class="actions"><button type="submit" class="tertiary">${h(t("common.cancel"))}</button></div></form>` : "";
  return layout(
    t("enrol.title"),
    `<h1>${h(t("enrol.title"))}</h1><p class="muted">${h(v.intro)}</p>
<ol class="steps"><li>${h(t("enrol.step1"))}</li><li>${h(t("enrol.step2"))}</li><li>${h(t("enrol.step3"))}</li></ol>
<div class="qr">${v.qrSvg}</div>
<p class="m0"><strong id="secret-label">${h(t("enrol.key"))}</strong></p><code class="secret" aria-labelledby="secret-label" data-totp-secret>${h(v.secret)}</code>
${err}<form method="post" action="${h(v.action)}" novalidate>${csrfField(v.csrf)}
<label for="enrol-code">${h(t("enrol.code_label"))}</label>
<input type="text" id="enrol-code" name="code" class="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required${invalid} autofocus>
<p class="muted note" id="enrol-help">${h(t("enrol.code_help"))}</p>
<div class="actions"><button type="submit" class="primary">${h(t("enrol.submit"))}</button></div></form>${cancel}`,
    { ui },
  );
}

/** The recovery codes, shown once. */
export function recoveryCodesPage(v: { codes: string[]; continueUrl: string; continueLabel: string; status?: string; ui?: PageUi }): string {
  const ui = v.ui ?? defaultUi();
  const { t } = ui;
  return layout(
    t("codes.title"),
    `<h1>${h(t("codes.title"))}</h1><div class="ok" role="status">${h(v.status ?? t("codes.on"))}</div>
<p>${h(t("codes.explain"))}</p>
<ul class="codes" aria-label="${h(t("codes.list"))}">${v.codes.map((c) => `<li data-recovery-code>${h(c)}</li>`).join("")}</ul>
<div class="actions"><a class="button primary" href="${h(v.continueUrl)}" autofocus>${h(v.continueLabel)}</a></div>`,
    { ui },
  );
}
