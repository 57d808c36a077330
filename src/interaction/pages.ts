// Server-rendered login, consent and logout pages: no JavaScript, one stylesheet pinned by hash in
// a strict CSP, no framing, no caching; labelled fields, a logical focus order and WCAG AA contrast.
import { escapeHtml as h } from "../http/html";

const CSS = `*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;background:#f3f4f6;line-height:1.5}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;padding:1.5rem}
main{width:100%;max-width:26rem;background:#fff;border:1px solid #d8dee4;border-radius:12px;box-shadow:0 4px 24px rgba(15,23,42,.06);padding:2rem}
.brand{display:flex;align-items:center;gap:.5rem;font-weight:600;color:#0b5cad;margin:0 0 1.5rem;font-size:.95rem;letter-spacing:.02em}
.brand svg{flex:none}
h1{font-size:1.375rem;line-height:1.3;margin:0 0 .375rem}
p{margin:0 0 1rem}
.muted{color:#57606a;font-size:.9375rem}
label{display:block;font-weight:600;font-size:.9375rem;margin:1rem 0 .375rem}
input[type=text],input[type=password]{width:100%;font:inherit;padding:.625rem .75rem;border:1px solid #8c959f;border-radius:8px;background:#fff;color:#1f2328}
input:focus,button:focus,a:focus{outline:3px solid #0b5cad;outline-offset:2px}
input[aria-invalid=true]{border-color:#b42318}
.alert{border:1px solid #f1aeb5;background:#fdf0f1;color:#8a1c24;border-radius:8px;padding:.75rem .875rem;margin:1rem 0 0;font-size:.9375rem}
.actions{display:flex;gap:.75rem;margin-top:1.5rem}
.actions.stack{flex-direction:column}
button{font:inherit;font-weight:600;border-radius:8px;padding:.6875rem 1rem;cursor:pointer;border:1px solid transparent;width:100%}
.primary{background:#0b5cad;color:#fff}
.primary:hover{background:#094a8c}
.secondary{background:#fff;color:#1f2328;border-color:#8c959f}
.secondary:hover{background:#f3f4f6}
.tertiary{background:none;color:#0b5cad;font-weight:500;padding:.5rem;margin-top:-.5rem}
.tertiary:hover{text-decoration:underline}
.app{display:flex;align-items:center;gap:.875rem;margin:0 0 1.25rem}
.app img{width:48px;height:48px;border-radius:10px;object-fit:contain;border:1px solid #d8dee4;background:#fff}
.app .initial{width:48px;height:48px;border-radius:10px;background:#e7effa;color:#0b5cad;display:flex;align-items:center;justify-content:center;font-weight:700;font-size:1.25rem;flex:none}
ul.scopes{list-style:none;padding:0;margin:1rem 0;border:1px solid #d8dee4;border-radius:8px}
ul.scopes li{padding:.75rem .875rem;border-top:1px solid #d8dee4}
ul.scopes li:first-child{border-top:0}
ul.scopes strong{display:block;font-size:.9375rem}
ul.scopes span{color:#57606a;font-size:.875rem}
.links{font-size:.875rem;color:#57606a;margin-top:1rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.links a{color:#0b5cad;white-space:nowrap}
footer{margin-top:1.25rem;color:#57606a;font-size:.8125rem}
.m0{margin:0}
.note{margin-top:1rem;font-size:.8125rem}
.code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1.75rem;font-weight:700;letter-spacing:.12em;text-align:center;background:#f3f4f6;border:1px solid #d8dee4;border-radius:8px;padding:.5rem;margin:.25rem 0 1rem}
input.code-input{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:1.25rem;letter-spacing:.1em;text-transform:uppercase}
.warn{border:1px solid #d4a72c;background:#fff8e6;color:#4d3300;border-radius:8px;padding:.75rem .875rem;margin:1rem 0;font-size:.9375rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
[hidden]{display:none!important}
input.code{font-size:1.25rem;letter-spacing:.2em;font-variant-numeric:tabular-nums}
.qr{display:block;margin:1rem auto;width:180px;height:180px}
.qr svg{width:180px;height:180px;display:block}
code.secret{display:block;font-size:1rem;overflow-wrap:anywhere;background:#f3f4f6;border-radius:8px;padding:.5rem .75rem;margin:.25rem 0 1rem}
ol.steps{padding-left:1.25rem;margin:0 0 1rem}
ul.codes{list-style:none;padding:0;margin:1rem 0;display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:.5rem;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:1rem}
ul.codes li{background:#f3f4f6;border-radius:6px;padding:.375rem .5rem;text-align:center}
details{margin-top:1.25rem;border-top:1px solid #d8dee4;padding-top:1rem}
summary{cursor:pointer;color:#0b5cad;font-weight:600}
.divider{display:flex;align-items:center;gap:.75rem;color:#57606a;font-size:.875rem;margin:1.25rem 0 0}
.divider::before,.divider::after{content:"";flex:1;border-top:1px solid #d8dee4}
a.button{display:block;width:100%;text-align:center;text-decoration:none;font-weight:600;border-radius:8px;padding:.6875rem 1rem}
main.wide{max-width:40rem}
section{border-top:1px solid #d8dee4;margin-top:1.5rem;padding-top:1rem}
h2{font-size:1.125rem;margin:0 0 .5rem}
h3{font-size:1rem;margin:1rem 0 .25rem}
ul.items{list-style:none;padding:0;margin:.5rem 0}
ul.items li{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.5rem;padding:.625rem 0;border-top:1px solid #eef0f2}
ul.items li:first-child{border-top:0}
ul.items form button{width:auto;padding:.375rem .75rem}
.ok{border:1px solid #a6d8b5;background:#eefbf2;color:#14532d;border-radius:8px;padding:.75rem .875rem;margin:1rem 0;font-size:.9375rem}`;

const CSS_HASH = `'sha256-${new Bun.CryptoHasher("sha256").update(CSS).digest("base64")}'`;

const LOGO = `<svg width="22" height="22" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="#0b5cad" d="M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3Zm0 5a3 3 0 0 1 1 5.8V16h-2v-3.2A3 3 0 0 1 12 7Z"/></svg>`;

/** Headers of every page: no framing, no caching, a CSP that allows only this stylesheet, images
 *  over https, and form posts to this server (plus the redirect target the posts lead to). */
export function pageHeaders(formTargets: string[] = [], opts: { script?: boolean } = {}): Record<string, string> {
  const formAction = ["'self'", ...formTargets].join(" ");
  // Pages with WebAuthn load one script of ours (/assets/webauthn.js); nothing inline, no other origin.
  const script = opts.script ? " script-src 'self';" : "";
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    Pragma: "no-cache",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": `default-src 'none';${script} style-src ${CSS_HASH}; img-src https: data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
  };
}

/** The CSP source that lets a form post end in a redirect to `uri` (form-action applies to redirects). */
export function formTarget(uri: string): string {
  try {
    const u = new URL(uri);
    if (u.protocol === "http:" || u.protocol === "https:") return u.origin;
    return u.protocol;
  } catch {
    return "";
  }
}

/** The page frame; `script`: the URL of our WebAuthn script (the page's CSP must allow 'self'). */
export function layout(title: string, body: string, opts: { script?: string; wide?: boolean } = {}): string {
  const script = opts.script ? `<script src="${h(opts.script)}" defer></script>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${h(title)} · Authly</title><style>${CSS}</style>${script}</head>
<body><main${opts.wide ? ` class="wide"` : ""}><p class="brand">${LOGO}<span>Authly</span></p>${body}</main><footer>Secured by Authly</footer></body></html>`;
}

export interface LoginView {
  action: string;
  cancelAction: string;
  csrf: string;
  clientName: string;
  login?: string;
  error?: string;
  /** Sign-in with a passkey (WebAuthn, needs our script): where the assertion is posted. */
  passkey?: { action: string; challenge: string; rpId: string; script: string };
  /** Upstream identity providers: a link each, starting the sign-in there (src/authn/upstream/). */
  upstream?: { name: string; href: string }[];
  /** "Forgot password?" (only with mail configured). */
  forgotUrl?: string;
  /** "Create an account" (only when open sign-up is offered). */
  signupUrl?: string;
}

export function loginPage(v: LoginView): string {
  const err = v.error ? `<div class="alert" role="alert" id="login-error">${h(v.error)}</div>` : "";
  const described = v.error ? ` aria-describedby="login-error" aria-invalid="true"` : "";
  // Focus lands on the first empty field (password when the login is prefilled by login_hint).
  const focusLogin = !v.login ? " autofocus" : "";
  const focusPassword = v.login ? " autofocus" : "";
  return layout(
    "Sign in",
    `<h1>Sign in</h1><p class="muted">to continue to <strong>${h(v.clientName)}</strong></p>${err}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<label for="login">Username or email</label>
<input type="text" id="login" name="login" value="${h(v.login ?? "")}" autocomplete="${v.passkey ? "username webauthn" : "username"}" autocapitalize="none" spellcheck="false" required${described}${focusLogin}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${described}${focusPassword}>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>${v.forgotUrl || v.signupUrl ? `<p class="links">${v.forgotUrl ? `<a href="${h(v.forgotUrl)}">Forgot password?</a>` : ""}${v.signupUrl ? `<a href="${h(v.signupUrl)}">Create an account</a>` : ""}</p>` : ""}${v.passkey ? passkeyForm(v.passkey, v.csrf) : ""}${upstreamLinks(v.upstream)}
<form method="post" action="${h(v.cancelAction)}"><input type="hidden" name="csrf_token" value="${h(v.csrf)}"><div class="actions"><button type="submit" class="tertiary" aria-label="Cancel and return to ${h(v.clientName)}">Cancel</button></div></form>`,
    { script: v.passkey?.script },
  );
}

/** "Sign in with <provider>": plain links (a GET starts the upstream flow of this interaction). */
function upstreamLinks(list: LoginView["upstream"]): string {
  if (!list?.length) return "";
  return `
<section aria-label="Other ways to sign in" class="upstream"><p class="divider">or</p>${list.map((p) => `<div class="actions"><a class="button secondary" href="${h(p.href)}">Sign in with ${h(p.name)}</a></div>`).join("")}</section>`;
}

/** The passkey sign-in form: hidden until our script finds WebAuthn; conditional mediation offers
 *  passkeys in the username field's autofill, the button asks for one directly. */
function passkeyForm(p: NonNullable<LoginView["passkey"]>, csrf: string): string {
  return `
<form method="post" action="${h(p.action)}" data-webauthn="get" data-challenge="${h(p.challenge)}" data-rp-id="${h(p.rpId)}" data-conditional="true" hidden>
<input type="hidden" name="csrf_token" value="${h(csrf)}"><input type="hidden" name="credential" value="">
<p class="divider">or</p>
<p class="alert" role="alert" data-webauthn-status hidden></p>
<div class="actions"><button type="button" class="secondary" data-webauthn-start>Sign in with a passkey</button></div>
</form>`;
}

export interface PasswordChangeView {
  action: string;
  cancelAction: string;
  csrf: string;
  userName: string;
  minLength: number;
  error?: string;
}

/** Shown after a correct login when the account must choose a new password first. */
export function passwordChangePage(v: PasswordChangeView): string {
  const err = v.error ? `<div class="alert" role="alert" id="pw-error">${h(v.error)}</div>` : "";
  const described = v.error ? ` aria-describedby="pw-error pw-rules" aria-invalid="true"` : ` aria-describedby="pw-rules"`;
  return layout(
    "Choose a new password",
    `<h1>Choose a new password</h1><p class="muted">The password of <strong>${h(v.userName)}</strong> must be changed before you continue.</p>${err}
<form method="post" action="${h(v.action)}" novalidate>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<label for="current_password">Current password</label>
<input type="password" id="current_password" name="current_password" autocomplete="current-password" required autofocus>
<label for="new_password">New password</label>
<input type="password" id="new_password" name="new_password" autocomplete="new-password" minlength="${v.minLength}" required${described}>
<p class="muted note" id="pw-rules">At least ${v.minLength} characters, different from the current one.</p>
<label for="confirm_password">Repeat the new password</label>
<input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password" required>
<div class="actions"><button type="submit" class="primary">Change password and continue</button></div>
</form>
<form method="post" action="${h(v.cancelAction)}"><input type="hidden" name="csrf_token" value="${h(v.csrf)}"><div class="actions"><button type="submit" class="tertiary">Cancel</button></div></form>`,
  );
}

export interface ConsentView {
  action: string;
  switchAction: string;
  csrf: string;
  client: { name: string; logoUri?: string | null; clientUri?: string | null; policyUri?: string | null; tosUri?: string | null };
  userName: string;
  scopes: { name: string; description: string }[];
  extraClaims: string[];
  /** The APIs (RFC 8707 resources) the application will call on the user's behalf. */
  apis?: { name: string; identifier: string }[];
}

/** Plain-language titles of the standard scopes; other scopes show their name. */
export const SCOPE_TITLES: Record<string, string> = {
  openid: "Sign you in",
  profile: "See your profile",
  email: "See your email address",
  address: "See your postal address",
  phone: "See your phone number",
  offline_access: "Keep access while you are away",
};

function safeUrl(uri: string | null | undefined, schemes = ["https:"]): string | undefined {
  if (!uri) return undefined;
  try {
    return schemes.includes(new URL(uri).protocol) ? uri : undefined;
  } catch {
    return undefined;
  }
}

export function consentPage(v: ConsentView): string {
  const logo = safeUrl(v.client.logoUri, ["https:", "data:"]);
  const icon = logo ? `<img src="${h(logo)}" alt="" width="48" height="48">` : `<span class="initial" aria-hidden="true">${h(v.client.name.slice(0, 1).toUpperCase())}</span>`;
  const links = [
    [safeUrl(v.client.clientUri, ["https:", "http:"]), `About ${v.client.name}`],
    [safeUrl(v.client.policyUri, ["https:", "http:"]), "Privacy policy"],
    [safeUrl(v.client.tosUri, ["https:", "http:"]), "Terms of service"],
  ]
    .filter(([u]) => u)
    .map(([u, label]) => `<a href="${h(u)}" rel="noopener noreferrer" target="_blank">${h(label)}</a>`)
    .join("");
  const items = v.scopes.map((s) => `<li><strong>${h(SCOPE_TITLES[s.name] ?? s.name)}</strong><span>${h(s.description)}</span></li>`).join("");
  const extra = v.extraClaims.length ? `<li><strong>Additional details</strong><span>${h(v.extraClaims.join(", "))}</span></li>` : "";
  const apis = v.apis?.length ? `<p>with access to ${v.apis.map((a) => `<strong title="${h(a.identifier)}">${h(a.name)}</strong>`).join(", ")}</p>` : "";
  return layout(
    "Allow access",
    `<div class="app">${icon}<div><h1>${h(v.client.name)}</h1><p class="muted m0">wants to access your account</p></div></div>
<p>Signed in as <strong>${h(v.userName)}</strong>. Allowing this lets <strong>${h(v.client.name)}</strong>:</p>
<ul class="scopes" aria-label="Requested permissions">${items}${extra}</ul>${apis}
<form method="post" action="${h(v.action)}">
<input type="hidden" name="csrf_token" value="${h(v.csrf)}">
<div class="actions"><button type="submit" name="decision" value="deny" class="secondary">Deny</button><button type="submit" name="decision" value="allow" class="primary" autofocus>Allow</button></div>
</form>
<form method="post" action="${h(v.switchAction)}"><input type="hidden" name="csrf_token" value="${h(v.csrf)}"><div class="actions"><button type="submit" class="tertiary">Not you? Use another account</button></div></form>
${links ? `<p class="links">${links}</p>` : ""}<p class="muted note">You can revoke this access at any time.</p>`,
  );
}

export interface LogoutView {
  action: string;
  csrf: string;
  clientName?: string;
  hidden: Record<string, string | undefined>;
}

export function logoutConfirmPage(v: LogoutView): string {
  const hidden = Object.entries(v.hidden)
    .filter(([, val]) => val !== undefined)
    .map(([k, val]) => `<input type="hidden" name="${h(k)}" value="${h(val)}">`)
    .join("");
  const from = v.clientName ? ` <strong>${h(v.clientName)}</strong> asked to sign you out.` : "";
  return layout(
    "Sign out",
    `<h1>Sign out?</h1><p class="muted">You are signed in to Authly.${from} Do you want to sign out?</p>
<form method="post" action="${h(v.action)}"><input type="hidden" name="csrf_token" value="${h(v.csrf)}">${hidden}
<div class="actions"><button type="submit" name="logout" value="no" class="secondary">Stay signed in</button><button type="submit" name="logout" value="yes" class="primary" autofocus>Sign out</button></div></form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return layout(title, `<h1>${h(title)}</h1><p class="muted">${h(message)}</p>`);
}
