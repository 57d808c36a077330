// The account page (/account): sign-in methods (authenticator app, recovery codes, passkeys),
// sessions and the applications with access. Server-rendered forms with the session's CSRF token;
// only adding a passkey needs our script (WebAuthn). Same layout and CSP as the login pages.
import { escapeHtml as h } from "../http/html";
import { layout } from "../interaction/pages";
import type { AccountOverview } from "./service";

export interface AccountView {
  base: string;
  csrf: string;
  userName: string;
  overview: AccountOverview;
  /** A done or error message after a form post (fixed texts, chosen by code). */
  notice?: { kind: "ok" | "error"; text: string };
  /** Profile, email address and password forms (self-service-pages.ts), already rendered. */
  selfService?: string;
  /** Adding a passkey (WebAuthn §5.4 creation options). */
  /** Identities linked at upstream providers, and the providers one may link (src/authn/upstream/). */
  identities?: { linked: { id: string; provider: string; email: string | null; createdAt: Date; lastUsedAt: Date | null }[]; linkable: { name: string; href: string }[] };
  register?: { challenge: string; rpId: string; rpName: string; userId: string; userName: string; userDisplayName: string; exclude: string[]; script: string };
}

const fmt = (d: Date | null) => (d ? `${d.toISOString().slice(0, 16).replace("T", " ")} UTC` : "never");

function button(action: string, csrf: string, label: string, cls = "secondary", aria?: string): string {
  return `<form method="post" action="${h(action)}"><input type="hidden" name="csrf_token" value="${h(csrf)}"><button type="submit" class="${cls}"${aria ? ` aria-label="${h(aria)}"` : ""}>${h(label)}</button></form>`;
}

/** A short name for a browser's user agent (for people, not for decisions). */
function device(ua: string | null): string {
  if (!ua) return "Unknown device";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : ua.slice(0, 40);
  const os = /Windows/.test(ua) ? "Windows" : /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

export function accountPage(v: AccountView): string {
  const o = v.overview;
  const a = (path: string) => `${v.base}/account${path}`;
  const notice = v.notice ? `<div class="${v.notice.kind === "ok" ? "ok" : "alert"}" role="${v.notice.kind === "ok" ? "status" : "alert"}">${h(v.notice.text)}</div>` : "";
  const second = o.totp || o.passkeys.length > 0;

  const totp = `<li><div><strong>Authenticator app</strong><br><span class="muted">${o.totp ? "On: codes from your app are asked for when you sign in." : "Off"}</span></div>
${o.totp ? button(a("/totp/remove"), v.csrf, "Remove", "secondary", "Remove the authenticator app") : button(a("/totp/start"), v.csrf, "Set up", "primary", "Set up an authenticator app")}</li>`;
  const recovery = second
    ? `<li><div><strong>Recovery codes</strong><br><span class="muted">${o.recoveryLeft} of 10 left</span></div>${button(a("/recovery/regenerate"), v.csrf, "New codes", "secondary", "Generate new recovery codes (the old ones stop working)")}</li>`
    : "";
  const passkeys = o.passkeys
    .map((p) => `<li><div><strong>${h(p.name)}</strong><br><span class="muted">${p.passkey ? "Passkey" : "Security key"} · added ${h(fmt(p.createdAt))} · last used ${h(fmt(p.lastUsedAt))}</span></div>${button(a(`/passkeys/${encodeURIComponent(p.id)}/remove`), v.csrf, "Remove", "secondary", `Remove ${p.name}`)}</li>`)
    .join("");
  const r = v.register;
  const add = r
    ? `<form method="post" action="${h(a("/passkeys"))}" data-webauthn="create" data-challenge="${h(r.challenge)}" data-rp-id="${h(r.rpId)}" data-rp-name="${h(r.rpName)}" data-user-id="${h(r.userId)}" data-user-name="${h(r.userName)}" data-user-display-name="${h(r.userDisplayName)}" data-exclude="${h(r.exclude.join(","))}" hidden>
<input type="hidden" name="csrf_token" value="${h(v.csrf)}"><input type="hidden" name="credential" value="">
<label for="passkey-name">Name of the new passkey</label>
<input type="text" id="passkey-name" name="name" maxlength="64" placeholder="For example: work laptop" autocomplete="off">
<p class="alert" role="alert" data-webauthn-status hidden></p>
<div class="actions"><button type="submit" class="primary" data-webauthn-start>Add a passkey</button></div></form>
<noscript><p class="muted note">Adding a passkey needs JavaScript.</p></noscript>`
    : "";

  const sessions = o.sessions
    .map((s) => `<li><div><strong>${h(device(s.userAgent))}</strong>${s.current ? ` <span class="muted">(this browser)</span>` : ""}<br><span class="muted">${h(s.ip ?? "")} · signed in ${h(fmt(s.authTime))} · last seen ${h(fmt(s.lastSeen))}</span></div>${button(a(`/sessions/${s.id}/end`), v.csrf, s.current ? "Sign out" : "End", "secondary", s.current ? "Sign out of this browser" : `End the session of ${device(s.userAgent)}`)}</li>`)
    .join("");
  const consents = o.consents.length
    ? o.consents.map((c) => `<li><div><strong>${h(c.clientName)}</strong><br><span class="muted">${h(c.scopes.join(", "))}</span></div>${button(a(`/consents/${encodeURIComponent(c.clientId)}/revoke`), v.csrf, "Revoke", "secondary", `Revoke the access of ${c.clientName}`)}</li>`).join("")
    : `<li><span class="muted">No application has access.</span></li>`;

  return layout(
    "Your account",
    `<h1>Your account</h1><p class="muted">Signed in as <strong>${h(v.userName)}</strong></p>${notice}
${v.selfService ?? ""}
<section aria-labelledby="methods"><h2 id="methods">Sign-in methods</h2><ul class="items">${totp}${recovery}</ul>
<h3 class="m0">Passkeys and security keys</h3><ul class="items" aria-label="Passkeys and security keys">${passkeys || `<li><span class="muted">None yet.</span></li>`}</ul>${add}</section>
${linkedSection(v, a)}
<section aria-labelledby="sessions"><h2 id="sessions">Where you are signed in</h2><ul class="items">${sessions}</ul>${o.sessions.some((s) => !s.current) ? button(a("/sessions/end-others"), v.csrf, "Sign out everywhere else", "secondary", "End every session except this browser") : ""}</section>
<section aria-labelledby="apps"><h2 id="apps">Applications with access</h2><ul class="items">${consents}</ul></section>`,
    { script: r?.script, wide: true },
  );
}

/** Sign-ins through upstream providers: the linked identities (removable) and "Link" per provider. */
function linkedSection(v: AccountView, a: (path: string) => string): string {
  const ids = v.identities;
  if (!ids || (!ids.linked.length && !ids.linkable.length)) return "";
  const linked = ids.linked
    .map((i) => `<li><div><strong>${h(i.provider)}</strong>${i.email ? ` <span class="muted">${h(i.email)}</span>` : ""}<br><span class="muted">linked ${h(fmt(i.createdAt))} · last used ${h(fmt(i.lastUsedAt))}</span></div>${button(a(`/identities/${encodeURIComponent(i.id)}/remove`), v.csrf, "Remove", "secondary", `Remove the ${i.provider} sign-in`)}</li>`)
    .join("");
  const links = ids.linkable.map((p) => `<li><span>${h(p.name)}</span><a class="button secondary" href="${h(p.href)}" aria-label="Link ${h(p.name)}">Link</a></li>`).join("");
  return `<section aria-labelledby="linked"><h2 id="linked">Linked sign-ins</h2><ul class="items" aria-label="Linked sign-ins">${linked || `<li><span class="muted">None yet.</span></li>`}</ul>${links ? `<h3 class="m0">Link another</h3><ul class="items" aria-label="Providers you can link">${links}</ul>` : ""}</section>`;
}
