// Input text (issue 12 item 2, SECURITY.md "Input text"): a parameter that is not valid text — a NUL
// byte, invalid UTF-8 (%C3%28, %FF, the surrogate encoding %ED%A0%80), a lone surrogate in JSON
// (\ud800) — is refused at the edge with the endpoint's own error and never reaches PostgreSQL,
// where one such value used to fail every request batched with it. JSON from requests is bounded
// in depth and size before it is parsed.
import { describe, expect, test } from "bun:test";
import { createTestApp } from "../support/app";
import { seedFixtures } from "../reliability/harness";
import { Browser, authorizeUrl, isLoginPage, pkce } from "../support/browser";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";

const t = await createTestApp({ env: { AUTHLY_ADMIN_API_LOCALHOST_ONLY: "false", AUTHLY_ADMIN_RATE_LIMIT: "1000000" } });
const f = await seedFixtures(t.deps);
const rp = await createOidcClient(t.deps);
const FORM = "application/x-www-form-urlencoded";
const BASIC = `Basic ${btoa(`${f.clientId}:${f.clientSecret}`)}`;
const BAD_ESCAPES = ["%00", "a%00b", "%C3%28", "%FF", "%ED%A0%80", "%E0%A4%A"];

const post = (path: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
  t.request(path, { method: "POST", headers: { "content-type": FORM, ...headers }, body: body as BodyInit });
const admin = (path: string, init: RequestInit = {}) =>
  t.request(path, { ...init, headers: { authorization: `Bearer ${f.adminToken}`, "content-type": "application/json", ...(init.headers as Record<string, string>) } });

async function oauthError(res: Response): Promise<{ status: number; error: string; description: string }> {
  const body = await res.json();
  return { status: res.status, error: body.error, description: body.error_description };
}

describe("back-channel endpoints answer invalid_request for a parameter that is not text (RFC 6749 §5.2)", () => {
  for (const bad of BAD_ESCAPES) {
    test(`token, introspection, revocation and UserInfo refuse ${bad}`, async () => {
      const cases = [
        post("/oauth/token", `grant_type=client_credentials&scope=api:read&client_id=x${bad}&client_secret=y`),
        post("/oauth/token", `grant_type=client_credentials&scope=${bad}`, { authorization: BASIC }),
        post("/oauth/token", `grant_type=client_credentials&${bad}=1`, { authorization: BASIC }),
        post("/oauth/introspect", `token=${bad}`, { authorization: BASIC }),
        post("/oauth/revoke", `token=abc${bad}`, { authorization: BASIC }),
        post("/oidc/userinfo", `access_token=${bad}`),
      ];
      for (const res of await Promise.all(cases)) {
        const e = await oauthError(res);
        expect({ status: e.status, error: e.error }).toEqual({ status: 400, error: "invalid_request" });
        expect(e.description).toContain("Not valid text");
      }
    });
  }

  test("raw bytes that are not UTF-8 in a form body are invalid_request, naming the parameter", async () => {
    const body = new Uint8Array([...new TextEncoder().encode("grant_type=client_credentials&scope="), 0xc3, 0x28, 0xff]);
    const e = await oauthError(await post("/oauth/token", body, { authorization: BASIC }));
    expect(e).toEqual({ status: 400, error: "invalid_request", description: "Not valid text (UTF-8 without NUL): scope" });
  });

  test("valid UTF-8 (escaped or raw) and a lone '%' still reach the grant", async () => {
    const res = await post("/oauth/token", "grant_type=client_credentials&scope=api:read&note=%C3%A9t%C3%A9&x=100%&y=é", { authorization: BASIC });
    expect(res.status).toBe(200);
  });

  test("HTTP Basic credentials that decode to NUL or invalid UTF-8 are invalid_client (RFC 6749 §2.3.1)", async () => {
    for (const creds of [btoa(`${f.clientId}%00:${f.clientSecret}`), btoa(`${f.clientId}:${f.clientSecret}%FF`), Buffer.from([0x61, 0xff, 0x3a, 0x62]).toString("base64")]) {
      const e = await oauthError(await post("/oauth/token", "grant_type=client_credentials", { authorization: `Basic ${creds}` }));
      expect({ status: e.status, error: e.error }).toEqual({ status: 401, error: "invalid_client" });
    }
  });
});

describe("one request's bad input never fails another's (micro-batched lookups)", () => {
  test("valid token and introspection requests in the same event-loop turn as NUL ones all succeed", async () => {
    const good = () => post("/oauth/token", "grant_type=client_credentials&scope=api:read", { authorization: BASIC });
    const goodIntrospect = () => post("/oauth/introspect", `token=${f.userToken}`, { authorization: BASIC });
    const bad = (i: number) => post("/oauth/token", `grant_type=client_credentials&client_id=bad${i}%00&client_secret=y`);
    const badBasic = (i: number) => post("/oauth/introspect", `token=${f.userToken}`, { authorization: `Basic ${btoa(`x${i}%00:y`)}` });
    const requests: Promise<Response>[] = [];
    const kinds: string[] = [];
    for (let i = 0; i < 20; i++) {
      requests.push(good(), bad(i), goodIntrospect(), badBasic(i));
      kinds.push("token", "bad", "introspect", "bad-basic");
    }
    const responses = await Promise.all(requests);
    const outcome = await Promise.all(responses.map(async (r, i) => ({ kind: kinds[i]!, status: r.status, active: kinds[i] === "introspect" ? (await r.json()).active : undefined })));
    for (const o of outcome) {
      if (o.kind === "token") expect(o).toEqual({ kind: "token", status: 200, active: undefined });
      if (o.kind === "introspect") expect(o).toEqual({ kind: "introspect", status: 200, active: true });
      if (o.kind === "bad") expect(o.status).toBe(400);
      if (o.kind === "bad-basic") expect(o.status).toBe(401);
    }
  });
});

describe("the authorization endpoint: a page before the redirect URI is verified, a redirect after (RFC 6749 §4.1.2.1)", () => {
  const { challenge } = pkce();
  const params = (extra: Record<string, string> = {}) => ({ client_id: rp.client_id, redirect_uri: rp.redirect_uri, response_type: "code", scope: "openid", state: "st", code_challenge: challenge, code_challenge_method: "S256", ...extra });

  test("client_id or redirect_uri that is not text: the HTML error page, never a redirect", async () => {
    for (const bad of BAD_ESCAPES) {
      for (const q of [authorizeUrl(params({})).replace(`client_id=${rp.client_id}`, `client_id=${rp.client_id}${bad}`), authorizeUrl(params({})).replace("redirect_uri=", `redirect_uri=${bad}`)]) {
        const res = await t.request(q);
        expect({ q, status: res.status }).toEqual({ q, status: 400 });
        expect(res.headers.get("content-type")).toContain("text/html");
        expect(res.headers.get("location")).toBeNull();
      }
    }
  });

  test("any other parameter that is not text: redirected with invalid_request, state kept when it is text", async () => {
    for (const bad of BAD_ESCAPES) {
      const res = await t.request(`${authorizeUrl(params())}&nonce=${bad}`);
      expect(res.status).toBe(303);
      const loc = new URL(res.headers.get("location")!);
      expect(`${loc.origin}${loc.pathname}`).toBe(rp.redirect_uri);
      expect(loc.searchParams.get("error")).toBe("invalid_request");
      expect(loc.searchParams.get("state")).toBe("st");
    }
    const badState = await t.request(authorizeUrl(params()).replace("state=st", "state=s%00"));
    const loc = new URL(badState.headers.get("location")!);
    expect(loc.searchParams.get("error")).toBe("invalid_request");
    expect(loc.searchParams.has("state")).toBe(false);
  });

  test("the claims parameter is bounded in size and depth before it is parsed, and must be text (OIDC Core §5.5)", async () => {
    const deep = "[".repeat(30_000) + "]".repeat(30_000);
    const cases = [
      deep,
      JSON.stringify({ userinfo: { name: { value: "a".repeat(9000) } } }),
      `{"userinfo":{"name":{"value":[[[[["x"]]]]]}}}`,
      `{"userinfo":{"name":{"value":"a\\u0000b"}}}`,
      `{"userinfo":{"name":{"value":"\\ud800"}}}`,
      `{"userinfo":{"na\\u0000me":null}}`,
    ];
    for (const claims of cases) {
      // By form POST: 60,000 brackets do not fit in a URL (431).
      const res = await post("/oauth/authorize", new URLSearchParams(params({ claims })).toString());
      expect({ claims: claims.slice(0, 60), status: res.status }).toEqual({ claims: claims.slice(0, 60), status: 303 });
      const loc = new URL(res.headers.get("location")!);
      expect(loc.searchParams.get("error")).toBe("invalid_request");
      expect(loc.searchParams.get("error_description")).toStartWith("The claims parameter");
    }
    // The §5.5 shape itself is accepted (a login page follows).
    const ok = await Browser.forApp(t).open(authorizeUrl(params({ claims: JSON.stringify({ userinfo: { email: { essential: true }, name: null }, id_token: { acr: { values: ["a", "b"] } } }) })));
    expect(isLoginPage(ok)).toBe(true);
  });

  test("the same rule for a form POST to the authorization endpoint, raw bytes included", async () => {
    const q = new URLSearchParams(params()).toString();
    const body = new Uint8Array([...new TextEncoder().encode(`${q}&login_hint=`), 0xed, 0xa0, 0x80]);
    const res = await post("/oauth/authorize", body);
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
  });
});

describe("login and consent forms and logout answer their own error page", () => {
  test("a login form with NUL or invalid UTF-8 shows the form error page and signs nobody in", async () => {
    const user = await createOidcUser(t.deps);
    const b = Browser.forApp(t);
    const { challenge } = pkce();
    const page = await b.open(authorizeUrl({ client_id: rp.client_id, redirect_uri: rp.redirect_uri, response_type: "code", scope: "openid", code_challenge: challenge, code_challenge_method: "S256" }));
    expect(isLoginPage(page)).toBe(true);
    const action = page.html.match(/action="([^"]*\/login)"/)![1]!;
    const csrf = page.html.match(/name="csrf_token" value="([^"]*)"/)![1]!;
    for (const bad of ["%00", "%C3%28", "%ED%A0%80"]) {
      const res = await b.request(action, { method: "POST", headers: { "content-type": FORM }, body: `csrf_token=${encodeURIComponent(csrf)}&login=${user.username}&password=${encodeURIComponent(user.password)}${bad}` });
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toContain("text/html");
      expect(await res.text()).toContain("not valid text");
      expect(res.headers.getSetCookie().some((c) => c.includes("authly_session"))).toBe(false);
    }
  });

  test("RP-initiated logout with a parameter that is not text shows the error page", async () => {
    for (const bad of ["%00", "%FF"]) {
      const res = await t.request(`/oidc/logout?client_id=${rp.client_id}${bad}`);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toContain("text/html");
    }
  });
});

describe("the admin API answers validation_error naming the field", () => {
  async function validation(res: Response): Promise<{ status: number; error: string; fields: string[] }> {
    const body = await res.json();
    return { status: res.status, error: body.error, fields: (body.fields ?? []).map((x: { field: string }) => x.field) };
  }

  test("path parameters and query strings that are not text", async () => {
    for (const bad of BAD_ESCAPES) {
      expect(await validation(await admin(`/admin/users/${bad}`))).toEqual({ status: 400, error: "validation_error", fields: ["id"] });
      expect(await validation(await admin(`/admin/clients/x${bad}`, { method: "PATCH", body: "{}" }))).toEqual({ status: 400, error: "validation_error", fields: ["client_id"] });
      expect(await validation(await admin(`/admin/users?q=${bad}`))).toEqual({ status: 400, error: "validation_error", fields: ["q"] });
    }
    // Text that is valid still reaches the handler (an unknown user: 404).
    expect((await admin(`/admin/users/${encodeURIComponent("nö-such-user")}`)).status).toBe(404);
  });

  test("JSON bodies with \\u0000, a lone surrogate, invalid UTF-8, or nesting past the bound change nothing", async () => {
    const [{ n: before }] = (await t.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM scopes`) as unknown as [{ n: number }];
    const bodies: (string | Uint8Array)[] = [
      `{"name":"fuzz:a\\u0000","description":"x"}`,
      `{"name":"fuzz:b","description":"\\ud800"}`,
      `{"name":"fuzz:c","descr\\u0000iption":"x"}`,
      new Uint8Array([...new TextEncoder().encode(`{"name":"fuzz:d","description":"`), 0xc3, 0x28, ...new TextEncoder().encode(`"}`)]),
      `{"name":"fuzz:e","description":"x","extra":${"[".repeat(30_000)}${"]".repeat(30_000)}}`,
    ];
    for (const body of bodies) {
      const v = await validation(await admin("/admin/scopes", { method: "POST", body: body as BodyInit }));
      expect({ status: v.status, error: v.error, fields: v.fields }).toEqual({ status: 400, error: "validation_error", fields: ["body"] });
    }
    const [{ n: after }] = (await t.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM scopes`) as unknown as [{ n: number }];
    expect(after).toBe(before);
  });
});
