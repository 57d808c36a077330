// The authorization request (RFC 6749 §4.1, OAuth 2.1 §4.1.1, OIDC Core §3.1.2): parameter
// checks, what is redirected and what is shown as a page, PKCE, request objects, scope, modes.
import { describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { createOidcClient, createOidcUser, type OidcTestClient, type OidcTestUser } from "../support/oidc-fixtures";
import { Browser, authorizeUrl, callbackParams, findForm, isLoginPage, pkce } from "../support/browser";
import { authParams, exchangeCode, signIn } from "../support/oidc-flow";

// One server and database for the file (created at load time so its cleanup runs after all tests).
const t: TestApp = await createTestApp();
const client: OidcTestClient = await createOidcClient(t.deps, { client_name: "Request Tests", redirect_uris: ["https://rp.example.com/callback", "https://rp.example.com/cb?foo=bar"] });
const user: OidcTestUser = await createOidcUser(t.deps);
const { challenge } = pkce();

async function authorize(params: Record<string, string | undefined>, init?: RequestInit): Promise<Response> {
  return t.request(authorizeUrl(params), init);
}

/** Asserts an error redirect to the client (RFC 6749 §4.1.2.1 + RFC 9207) and returns its parameters. */
function expectErrorRedirect(r: Response, error: string, state?: string): Record<string, string> {
  expect(r.status).toBe(303);
  const loc = r.headers.get("location")!;
  expect(loc.startsWith(client.redirect_uri + "?")).toBe(true);
  const p = callbackParams(loc);
  expect(p.error).toBe(error);
  expect(p.iss).toBe(t.issuer);
  if (state !== undefined) expect(p.state).toBe(state);
  expect(p.code).toBeUndefined();
  return p;
}

async function expectErrorPage(r: Response): Promise<string> {
  expect(r.status).toBe(400);
  expect(r.headers.get("location")).toBeNull();
  expect(r.headers.get("content-type")).toContain("text/html");
  return r.text();
}

describe("authorization request errors", () => {
  test("oidcc-response-type-missing: a request without response_type is redirected with invalid_request, state and iss", async () => {
    expectErrorRedirect(await authorize(authParams(client, challenge, { response_type: undefined, state: "s1" })), "invalid_request", "s1");
  });

  test("response types other than code are unsupported_response_type (OAuth 2.1 §4.1.1)", async () => {
    for (const rt of ["token", "id_token", "code id_token", "code token", "none"]) {
      expectErrorRedirect(await authorize(authParams(client, challenge, { response_type: rt, state: "s2" })), "unsupported_response_type", "s2");
    }
  });

  test("PKCE is required: no code_challenge is invalid_request (OAuth 2.1 §4.1.1)", async () => {
    const p = expectErrorRedirect(await authorize(authParams(client, challenge, { code_challenge: undefined, code_challenge_method: undefined })), "invalid_request");
    expect(p.error_description).toContain("code_challenge");
  });

  test("PKCE plain is rejected, also when the method is left out (RFC 7636 §4.3 default)", async () => {
    expectErrorRedirect(await authorize(authParams(client, challenge, { code_challenge_method: "plain" })), "invalid_request");
    expectErrorRedirect(await authorize(authParams(client, challenge, { code_challenge_method: undefined })), "invalid_request");
    expectErrorRedirect(await authorize(authParams(client, "short", {})), "invalid_request");
  });

  test("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: an unsigned (alg none) request object is invalid_request_object (RFC 9101 §6.1; signed ones: par-jar.test.ts)", async () => {
    const obj = `${btoa(JSON.stringify({ alg: "none" }))}.${btoa(JSON.stringify({ client_id: client.client_id, scope: "openid" }))}.`;
    expectErrorRedirect(await authorize(authParams(client, challenge, { request: obj, state: "r1" })), "invalid_request_object", "r1");
  });

  test("oidcc-ensure-request-object-with-redirect-uri: an unsigned request object naming another redirect_uri is rejected, not half-honoured (RFC 9101 §6.1)", async () => {
    const obj = `${btoa(JSON.stringify({ alg: "none" }))}.${btoa(JSON.stringify({ redirect_uri: "https://evil.example/cb" }))}.`;
    const r = await authorize(authParams(client, challenge, { request: obj }));
    expectErrorRedirect(r, "invalid_request_object");
    expect(r.headers.get("location")).not.toContain("evil.example");
  });

  test("oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported: request_uri is request_uri_not_supported", async () => {
    expectErrorRedirect(await authorize(authParams(client, challenge, { request_uri: "https://rp.example.com/req.jwt" })), "request_uri_not_supported");
  });

  test("a repeated parameter is invalid_request (RFC 6749 §3.1)", async () => {
    const q = new URLSearchParams(authParams(client, challenge, { state: "rep" }) as Record<string, string>);
    q.append("scope", "openid profile");
    const r = await t.request(`/oauth/authorize?${q}`);
    const p = expectErrorRedirect(r, "invalid_request", "rep");
    expect(p.error_description).toContain("scope");
  });

  test("an unknown prompt value, prompt=none with others and a bad max_age are invalid_request", async () => {
    expectErrorRedirect(await authorize(authParams(client, challenge, { prompt: "sometimes" })), "invalid_request");
    expectErrorRedirect(await authorize(authParams(client, challenge, { prompt: "none login" })), "invalid_request");
    expectErrorRedirect(await authorize(authParams(client, challenge, { max_age: "-1" })), "invalid_request");
    expectErrorRedirect(await authorize(authParams(client, challenge, { claims: "{not json" })), "invalid_request");
  });

  test("a client without the authorization_code grant is unauthorized_client", async () => {
    const cc = await createOidcClient(t.deps, { grant_types: ["client_credentials"] });
    const r = await authorize(authParams(cc, challenge));
    expect(r.status).toBe(303);
    expect(callbackParams(r.headers.get("location")!).error).toBe("unauthorized_client");
  });

  test("an id_token_hint that is not an ID token of this server is invalid_request", async () => {
    expectErrorRedirect(await authorize(authParams(client, challenge, { id_token_hint: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0." })), "invalid_request");
  });
});

describe("client and redirect URI are checked first and never redirected (RFC 6749 §4.1.2.1)", () => {
  test("an unknown client_id gets an HTML error page, no redirect", async () => {
    const html = await expectErrorPage(await authorize(authParams({ ...client, client_id: "nobody" }, challenge)));
    expect(html).toContain("not registered");
  });

  test("a missing or repeated client_id gets an error page", async () => {
    await expectErrorPage(await authorize(authParams(client, challenge, { client_id: undefined })));
    const q = new URLSearchParams(authParams(client, challenge) as Record<string, string>);
    q.append("client_id", client.client_id);
    await expectErrorPage(await t.request(`/oauth/authorize?${q}`));
  });

  test("an inactive client gets an error page", async () => {
    const off = await createOidcClient(t.deps, { is_active: false });
    await expectErrorPage(await authorize(authParams(off, challenge)));
  });

  test("oidcc-ensure-registered-redirect-uri: an unregistered redirect_uri is shown as an error, never redirected to", async () => {
    const r = await authorize(authParams(client, challenge, { redirect_uri: "https://attacker.example/cb" }));
    const html = await expectErrorPage(r);
    expect(html).not.toContain("attacker.example");
  });

  test("oidcc-ensure-redirect-uri-in-authorization-request: a request without redirect_uri is an error page", async () => {
    await expectErrorPage(await authorize(authParams(client, challenge, { redirect_uri: undefined })));
  });

  test("even with other errors present, a bad redirect_uri wins (no redirect with response_type missing)", async () => {
    await expectErrorPage(await authorize(authParams(client, challenge, { redirect_uri: "https://attacker.example/cb", response_type: undefined })));
  });

  test("oidcc-redirect-uri-query-mismatch: a registered query with another value does not match", async () => {
    await expectErrorPage(await authorize(authParams(client, challenge, { redirect_uri: "https://rp.example.com/cb?foo=other" })));
  });

  test("oidcc-redirect-uri-query-added: a query added to a registered URI does not match", async () => {
    await expectErrorPage(await authorize(authParams(client, challenge, { redirect_uri: "https://rp.example.com/callback?foo=bar" })));
  });

  test("oidcc-redirect-uri-regfrag: a redirect_uri with a fragment never matches", async () => {
    await expectErrorPage(await authorize(authParams(client, challenge, { redirect_uri: "https://rp.example.com/callback#frag" })));
  });

  test("error pages forbid framing and caching", async () => {
    const r = await authorize(authParams(client, challenge, { redirect_uri: "https://attacker.example/cb" }));
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(r.headers.get("cache-control")).toContain("no-store");
  });
});

describe("successful requests", () => {
  test("oidcc-redirect-uri-query-OK: the registered query is kept and the code is added", async () => {
    const b = Browser.forApp(t);
    const f = await signIn(b, { ...client, redirect_uri: "https://rp.example.com/cb?foo=bar" }, user);
    expect(f.location.startsWith("https://rp.example.com/cb?foo=bar&")).toBe(true);
    expect(f.callback.code).toBeTruthy();
  });

  test("oidcc-ensure-request-with-unknown-parameter-succeeds: unknown parameters are ignored", async () => {
    const b = Browser.forApp(t);
    const f = await signIn(b, client, user, { extra_thing: "whatever", another: "1" });
    expect(f.callback.code).toBeTruthy();
  });

  test("oidcc-ensure-post-request-succeeds: the authorization request may be a form POST", async () => {
    const b = Browser.forApp(t);
    const { verifier, challenge: c } = pkce();
    const body = new URLSearchParams(authParams(client, c, { state: "posted" }) as Record<string, string>).toString();
    let page = await b.open("/oauth/authorize", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body });
    expect(isLoginPage(page)).toBe(true);
    page = await b.submit(page, "/login", { login: user.username, password: user.password });
    if (!page.location) page = await b.submit(page, "/consent", { decision: "allow" });
    const cb = callbackParams(page.location!);
    expect(cb.state).toBe("posted");
    const tok = await exchangeCode(t, client, cb.code!, verifier);
    expect(tok.status).toBe(200);
  });

  test("a POST without a form content type is an error page", async () => {
    const r = await t.request("/oauth/authorize", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await expectErrorPage(r);
  });

  test("oidcc-ensure-request-with-valid-pkce-succeeds: the code is redeemed with the verifier; a wrong verifier fails", async () => {
    const b = Browser.forApp(t);
    const f = await signIn(b, client, user, { state: "pk" });
    expect(f.callback.state).toBe("pk");
    expect(f.callback.iss).toBe(t.issuer);
    const bad = await exchangeCode(t, client, f.callback.code!, pkce().verifier);
    expect(bad.status).toBe(400);
    const f2 = await signIn(b, client, user);
    const ok = await exchangeCode(t, client, f2.callback.code!, f2.verifier);
    expect(ok.status).toBe(200);
    expect(ok.body.id_token).toBeTruthy();
  });

  test("the authorization_codes row follows the contract: hashed code, exact redirect_uri, S256 challenge, session and auth_time", async () => {
    const b = Browser.forApp(t);
    const f = await signIn(b, client, user, { nonce: "row-nonce", claims: JSON.stringify({ userinfo: { name: { essential: true } } }) });
    const rows = await t.deps.sql<{ code_hash: string; redirect_uri: string; code_challenge_method: string; nonce: string; session_id: string; claims: unknown; user_id: string }[]>`
      SELECT * FROM authorization_codes WHERE nonce = 'row-nonce'`;
    expect(rows.length).toBe(1);
    expect(rows[0]!.code_hash).not.toBe(f.callback.code);
    expect(rows[0]!.redirect_uri).toBe(client.redirect_uri);
    expect(rows[0]!.code_challenge_method).toBe("S256");
    expect(rows[0]!.session_id).toBeTruthy();
    expect(rows[0]!.user_id).toBe(user.id);
    expect(rows[0]!.claims).toEqual({ userinfo: { name: { essential: true } } });
  });

  test("response_mode=form_post answers with an auto-submitting form to the redirect URI (OAuth 2.0 Form Post)", async () => {
    const b = Browser.forApp(t);
    await signIn(b, client, user);
    const r = await b.request(authorizeUrl(authParams(client, challenge, { response_mode: "form_post", state: "fp" })));
    expect(r.status).toBe(200);
    const html = await r.text();
    const form = findForm(html, "/callback");
    expect(form.action).toBe(client.redirect_uri);
    expect(form.hidden.state).toBe("fp");
    expect(form.hidden.iss).toBe(t.issuer);
    expect(form.hidden.code).toBeTruthy();
  });

  test("errors honour response_mode=form_post too", async () => {
    const r = await authorize(authParams(client, challenge, { response_mode: "form_post", response_type: "token", state: "fpe" }));
    expect(r.headers.get("content-type")).toContain("text/html");
    const form = findForm(await r.text(), "/callback");
    expect(form.hidden.error).toBe("unsupported_response_type");
    expect(form.hidden.state).toBe("fpe");
  });
});

describe("scope (RFC 6749 §3.3)", () => {
  test("unknown scopes are dropped; scopes the client may not use are dropped; the granted scope is what the token says", async () => {
    const narrow = await createOidcClient(t.deps, { scopes: ["openid", "email"], require_consent: false });
    const b = Browser.forApp(t);
    const f = await signIn(b, narrow, user, { scope: "openid email profile no-such-scope" });
    const tok = await exchangeCode(t, narrow, f.callback.code!, f.verifier);
    expect(tok.body.scope.split(" ").sort()).toEqual(["email", "openid"]);
  });

  test("nothing usable left is invalid_scope", async () => {
    const narrow = await createOidcClient(t.deps, { scopes: ["openid"] });
    const r = await authorize(authParams(narrow, challenge, { scope: "profile bogus", state: "sc" }));
    expect(r.status).toBe(303);
    const p = callbackParams(r.headers.get("location")!);
    expect(p.error).toBe("invalid_scope");
    expect(p.state).toBe("sc");
  });

  test("a malformed scope is invalid_scope", async () => {
    const r = await authorize(authParams(client, challenge, { scope: 'openid "quoted"' }));
    expect(callbackParams(r.headers.get("location")!).error).toBe("invalid_scope");
  });

  test("without a scope the default scopes apply; with no default it is invalid_scope", async () => {
    const r = await authorize(authParams(client, challenge, { scope: undefined }));
    expect(callbackParams(r.headers.get("location")!).error).toBe("invalid_scope");
    await t.deps.sql`UPDATE scopes SET is_default = true WHERE name IN ('openid', 'email')`;
    try {
      const b = Browser.forApp(t);
      const f = await signIn(b, client, user, { scope: undefined });
      const tok = await exchangeCode(t, client, f.callback.code!, f.verifier);
      expect(tok.body.scope.split(" ").sort()).toEqual(["email", "openid"]);
    } finally {
      await t.deps.sql`UPDATE scopes SET is_default = false WHERE name IN ('openid', 'email')`;
    }
  });
});
