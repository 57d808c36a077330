// The verification page of the device flow (RFC 8628 §3.3): the code entry form, and the
// confirmation that names the client, the scopes and the code again with §5.4's phishing warning.
// Built on the login pages' layout (one stylesheet, strict CSP, no JavaScript).
import { escapeHtml as h } from "../http/html";
import { layout, SCOPE_TITLES } from "../interaction/pages";

export interface EntryView {
  action: string;
  csrf: string;
  userCode?: string;
  error?: string;
}

export function entryPage(v: EntryView): string {
  const err = v.error ? `<div class="alert" role="alert" id="code-error">${h(v.error)}</div>` : "";
  const described = v.error ? ` aria-describedby="code-error code-help" aria-invalid="true"` : ` aria-describedby="code-help"`;
  return layout(
    "Connect a device",
    `<h1>Connect a device</h1><p class="muted">Enter the code shown on the device or in the terminal you are signing in on.</p>${err}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<label for="user_code">Code</label>
<input type="text" class="code-input" id="user_code" name="user_code" value="${h(v.userCode ?? "")}" maxlength="32" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX" required autofocus${described}>
<p class="muted note" id="code-help">8 letters, for example BCDF-GHJK. Upper or lower case, with or without the dash.</p>
<div class="actions"><button type="submit" class="primary">Continue</button></div>
</form>`,
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
}

export function confirmPage(v: ConfirmView): string {
  const items = v.scopes.map((s) => `<li><strong>${h(SCOPE_TITLES[s.name] ?? s.name)}</strong><span>${h(s.description)}</span></li>`).join("");
  return layout(
    "Connect a device",
    `<div class="app"><span class="initial" aria-hidden="true">${h(v.clientName.slice(0, 1).toUpperCase())}</span><div><h1>${h(v.clientName)}</h1><p class="muted m0">wants to sign in on a device as you</p></div></div>
<p>Signed in as <strong>${h(v.userName)}</strong>. The device shows this code:</p>
<p class="code">${h(v.userCode)}</p>
<div class="warn" id="device-warning"><strong>Only continue if you started this on your device</strong> and it shows the same code. If someone sent you this code or link, choose Deny: allowing would give them access to your account.</div>
${items ? `<p>Allowing this lets <strong>${h(v.clientName)}</strong> on that device:</p><ul class="scopes" aria-label="Requested permissions">${items}</ul>` : ""}
<form method="post" action="${h(v.action)}" aria-describedby="device-warning">
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<input type="hidden" name="device_id" value="${h(v.deviceId)}">
<div class="actions"><button type="submit" name="decision" value="deny" class="secondary">Deny</button><button type="submit" name="decision" value="allow" class="primary">Allow</button></div>
</form>`,
  );
}
