// Pages of the second step of a sign-in: a second factor (TOTP code, security key or passkey,
// recovery code), the enrolment of an authenticator app when a policy requires one, and the recovery
// codes shown once. Server-rendered, usable without JavaScript except for WebAuthn; labelled fields,
// errors in role=alert, focus on the field to fill.
import { escapeHtml as h } from "../http/html";
import { layout } from "./pages";

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
}

function csrfField(csrf: string): string {
  return `<input type="hidden" name="csrf_token" value="${h(csrf)}">`;
}

function webauthnGetForm(w: WebAuthnGet, csrf: string, label: string, cls = "primary"): string {
  return `<form method="post" action="${h(w.action)}" data-webauthn="get" data-challenge="${h(w.challenge)}" data-rp-id="${h(w.rpId)}" data-allow="${h(w.allow.join(","))}" data-uv="${h(w.userVerification)}" hidden>
${csrfField(csrf)}<input type="hidden" name="credential" value="">
<p class="alert" role="alert" data-webauthn-status hidden></p>
<div class="actions"><button type="button" class="${cls}" data-webauthn-start>${h(label)}</button></div>
</form>`;
}

export function factorPage(v: FactorView): string {
  const err = (f: "totp" | "recovery") => (v.error && v.errorFor === f ? `<div class="alert" role="alert" id="${f}-error">${h(v.error)}</div>` : "");
  const invalid = (f: "totp" | "recovery") => (v.error && v.errorFor === f ? ` aria-invalid="true" aria-describedby="${f}-error"` : "");
  const parts: string[] = [];
  if (v.phishingResistant) {
    parts.push(`<p>${h(v.clientName)} asks for a passkey or security key for this sign-in.</p>`);
    if (v.webauthn) parts.push(webauthnGetForm(v.webauthn, v.csrf, "Use a passkey or security key"));
    parts.push(`<noscript><p class="alert" role="alert">Your browser must run JavaScript to use a passkey or security key.</p></noscript>`);
  } else {
    if (v.totp) {
      parts.push(`${err("totp")}<form method="post" action="${h(v.action)}" novalidate>${csrfField(v.csrf)}<input type="hidden" name="method" value="totp">
<label for="totp-code">Code from your authenticator app</label>
<input type="text" id="totp-code" name="code" class="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required aria-describedby="totp-help"${invalid("totp")}${v.errorFor !== "recovery" ? " autofocus" : ""}>
<p class="muted note" id="totp-help">Open your authenticator app and enter the 6-digit code shown for Authly.</p>
<div class="actions"><button type="submit" class="primary">Verify</button></div></form>`);
    }
    if (v.webauthn) {
      if (v.totp) parts.push(`<p class="divider">or</p>`);
      parts.push(webauthnGetForm(v.webauthn, v.csrf, "Use a security key or passkey", v.totp ? "secondary" : "primary"));
    }
    if (v.recovery) {
      parts.push(`<details${v.errorFor === "recovery" ? " open" : ""}><summary>Use a recovery code</summary>${err("recovery")}
<form method="post" action="${h(v.action)}" novalidate>${csrfField(v.csrf)}<input type="hidden" name="method" value="recovery">
<label for="recovery-code">Recovery code</label>
<input type="text" id="recovery-code" name="code" class="code" autocomplete="off" autocapitalize="characters" spellcheck="false" maxlength="16" required${invalid("recovery")}${v.errorFor === "recovery" ? " autofocus" : ""}>
<p class="muted note">Each recovery code works once.</p>
<div class="actions"><button type="submit" class="secondary">Use recovery code</button></div></form></details>`);
    }
  }
  return layout(
    "Verify it's you",
    `<h1>Verify it's you</h1><p class="muted">Signed in as <strong>${h(v.userName)}</strong>. One more step to continue to <strong>${h(v.clientName)}</strong>.</p>
${parts.join("\n")}
<form method="post" action="${h(v.cancelAction)}">${csrfField(v.csrf)}<div class="actions"><button type="submit" class="tertiary" aria-label="Cancel and return to ${h(v.clientName)}">Cancel</button></div></form>`,
    { script: v.webauthn?.script },
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
}

/** Set up an authenticator app: scan the QR code or type the secret, then confirm with a code. */
export function enrolPage(v: EnrolView): string {
  const err = v.error ? `<div class="alert" role="alert" id="enrol-error">${h(v.error)}</div>` : "";
  const invalid = v.error ? ` aria-invalid="true" aria-describedby="enrol-error enrol-help"` : ` aria-describedby="enrol-help"`;
  const cancel = v.cancelAction ? `<form method="post" action="${h(v.cancelAction)}">${csrfField(v.csrf)}<div class="actions"><button type="submit" class="tertiary">Cancel</button></div></form>` : "";
  return layout(
    "Set up two-step verification",
    `<h1>Set up two-step verification</h1><p class="muted">${h(v.intro)}</p>
<ol class="steps"><li>Install an authenticator app (for example FreeOTP, Aegis, Google Authenticator or 1Password).</li><li>Scan this QR code with the app, or type the key below.</li><li>Enter the 6-digit code the app shows.</li></ol>
<div class="qr">${v.qrSvg}</div>
<p class="m0"><strong id="secret-label">Key (if you cannot scan)</strong></p><code class="secret" aria-labelledby="secret-label" data-totp-secret>${h(v.secret)}</code>
${err}<form method="post" action="${h(v.action)}" novalidate>${csrfField(v.csrf)}
<label for="enrol-code">6-digit code from the app</label>
<input type="text" id="enrol-code" name="code" class="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" maxlength="8" required${invalid} autofocus>
<p class="muted note" id="enrol-help">The code changes every 30 seconds.</p>
<div class="actions"><button type="submit" class="primary">Turn on</button></div></form>${cancel}`,
  );
}

/** The recovery codes, shown once. */
export function recoveryCodesPage(v: { codes: string[]; continueUrl: string; continueLabel: string; status?: string }): string {
  return layout(
    "Save your recovery codes",
    `<h1>Save your recovery codes</h1><div class="ok" role="status">${h(v.status ?? "Two-step verification is on.")}</div>
<p>If you lose your phone or security key, each of these codes lets you sign in once. Store them somewhere safe (a password manager, or printed). They will not be shown again.</p>
<ul class="codes" aria-label="Recovery codes">${v.codes.map((c) => `<li data-recovery-code>${h(c)}</li>`).join("")}</ul>
<div class="actions"><a class="button primary" href="${h(v.continueUrl)}" autofocus>${h(v.continueLabel)}</a></div>`,
  );
}
