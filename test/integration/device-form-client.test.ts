// A browser-less form client doing what a person does on the verification page (RFC 8628 §3.3),
// over real HTTP against a server on loopback: it keeps the cookies itself, reads the forms out of
// the HTML, follows redirects one by one, and so goes through /device, the login form and back.
import { beforeAll, describe, expect, test } from "bun:test";
import { startTestServer } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { DEVICE_CODE_GRANT } from "../../src/clients/model";

const srv = await startTestServer();
let tv: OidcTestClient;
let user: OidcTestUser;

beforeAll(async () => {
  tv = await createOidcClient(srv.deps, { client_type: "public", client_name: "Garage Display", grant_types: [DEVICE_CODE_GRANT], redirect_uris: [] });
  user = await createOidcUser(srv.deps);
});

/** The client: a cookie jar kept by hand, one request at a time, redirects shown to the caller. */
class FormClient {
  readonly cookies = new Map<string, string>();
  async send(path: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; location: string | null; html: string }> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (init.form) headers["content-type"] = "application/x-www-form-urlencoded";
    const r = await fetch(new URL(path, srv.url), { method: init.method ?? (init.form ? "POST" : "GET"), headers, body: init.form ? new URLSearchParams(init.form).toString() : undefined, redirect: "manual" });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    return { status: r.status, location: r.headers.get("location"), html: await r.text() };
  }
}

/** The named form of a page: its action and hidden fields. */
function formOf(html: string, action: RegExp): { action: string; fields: Record<string, string> } {
  for (const m of html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)) {
    if (!action.test(m[1]!)) continue;
    const fields: Record<string, string> = {};
    for (const f of m[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[f[1]!] = f[2]!.replaceAll("&amp;", "&");
    return { action: m[1]!, fields };
  }
  throw new Error(`no form ${action} in:\n${html.slice(0, 1500)}`);
}

async function startDevice(): Promise<{ device_code: string; user_code: string; verification_uri: string }> {
  const r = await fetch(`${srv.url}/oauth/device_authorization`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ client_id: tv.client_id, scope: "openid" }).toString() });
  expect(r.status).toBe(200);
  return (await r.json()) as never;
}

async function poll(deviceCode: string) {
  const r = await fetch(`${srv.url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: tv.client_id }).toString() });
  return { status: r.status, body: (await r.json()) as Record<string, string> };
}

describe("verification page by a form client over HTTP", () => {
  test("enter the code, be sent to the login form, sign in, come back to the confirmation, allow: the device's next poll gets tokens", async () => {
    const device = await startDevice();
    const c = new FormClient();
    const entry = await c.send(new URL(device.verification_uri).pathname);
    expect(entry.status).toBe(200);
    const entryForm = formOf(entry.html, /\/device$/);
    const submitted = await c.send(entryForm.action, { form: { ...entryForm.fields, user_code: device.user_code } });
    // No session yet: to the login page of a new interaction.
    expect(submitted.status).toBe(303);
    expect(submitted.location).toMatch(/^\/interaction\/[A-Za-z0-9_-]{43}$/);
    const login = await c.send(submitted.location!);
    expect(login.html).toContain("<h1>Sign in</h1>");
    expect(login.html).toContain("Garage Display");
    const loginForm = formOf(login.html, /\/login$/);
    const signedIn = await c.send(loginForm.action, { form: { ...loginForm.fields, login: user.username, password: user.password } });
    expect(signedIn.status).toBe(303);
    // The interaction ends by sending the browser back to the device page, code and all.
    const back = await c.send(signedIn.location!);
    expect(back.status).toBe(303);
    expect(back.location).toBe(`/device?user_code=${device.user_code}`);
    const confirm = await c.send(back.location!);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain(device.user_code);
    expect(confirm.html).toContain("Only continue if you started this on your device");
    const decision = formOf(confirm.html, /\/device\/decision$/);
    expect((await poll(device.device_code)).body.error).toBe("authorization_pending");
    const done = await c.send(decision.action, { form: { ...decision.fields, decision: "allow" } });
    expect(done.status).toBe(200);
    expect(done.html).toContain("Device connected");
    // Answered once: the same form again is refused, the decision stays.
    const twice = await c.send(decision.action, { form: { ...decision.fields, decision: "deny" } });
    expect(twice.status).toBe(400);
    await srv.deps.sql`UPDATE device_codes SET last_polled_at = NULL`;
    const tokens = await poll(device.device_code);
    expect(tokens.status).toBe(200);
    expect(tokens.body.id_token).toBeString();
  });

  test("cancelling on the login page returns to the device page with the code, and the code stays pending", async () => {
    const device = await startDevice();
    const c = new FormClient();
    const entry = await c.send("/device");
    const entryForm = formOf(entry.html, /\/device$/);
    const submitted = await c.send(entryForm.action, { form: { ...entryForm.fields, user_code: device.user_code.toLowerCase() } });
    const login = await c.send(submitted.location!);
    const cancel = formOf(login.html, /\/cancel$/);
    const cancelled = await c.send(cancel.action, { form: cancel.fields });
    expect(cancelled.status).toBe(303);
    expect(cancelled.location).toBe(`/device?user_code=${device.user_code}`);
    const again = await c.send(cancelled.location!);
    expect(again.status).toBe(200);
    expect(again.html).toContain(`value="${device.user_code}"`);
    expect((await poll(device.device_code)).body.error).toBe("authorization_pending");
  });

  test("a code of a client deactivated since is refused on the page", async () => {
    const other = await createOidcClient(srv.deps, { client_type: "public", grant_types: [DEVICE_CODE_GRANT], redirect_uris: [] });
    const r = await fetch(`${srv.url}/oauth/device_authorization`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ client_id: other.client_id, scope: "openid" }).toString() });
    const { user_code } = (await r.json()) as { user_code: string };
    await srv.deps.sql`UPDATE clients SET is_active = false WHERE client_id = ${other.client_id}`;
    const c = new FormClient();
    const entryForm = formOf((await c.send("/device")).html, /\/device$/);
    const page = await c.send(entryForm.action, { form: { ...entryForm.fields, user_code } });
    expect(page.status).toBe(400);
    expect(page.html).toContain("not valid or has expired");
  });
});
