// The rules of a federated sign-in that a well-behaved upstream never breaks, one at a time, against
// a scripted OpenID Connect provider on loopback (discovery, JWKS, token and userinfo endpoints whose
// answers each test sets): discovery refusals (Discovery §4.3, RFC 7636 S256), our client
// authentication at its token endpoint (client_secret_basic form-encoding, RFC 6749 §2.3.1;
// private_key_jwt, RFC 7523 §3), the session's amr/acr/auth_time, userinfo of another subject
// (OIDC Core §5.3.2), and each failure of the callback. The real two-Authly flow is in
// federation.test.ts and federation-logout.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { createLocalJWKSet, decodeJwt, exportJWK, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { auditRows, startAdminApi } from "../support/admin";
import { Browser, authorizeUrl, pkce, type Page } from "../support/browser";
import { createOidcClient } from "../support/oidc-fixtures";
import { authParams } from "../support/oidc-flow";

const a = await startAdminApi();
const rp = await createOidcClient(a.deps, { redirect_uris: ["https://rp.example.com/callback"], require_consent: false });

const key = await generateKeyPair("ES256");
const jwk = { ...(await exportJWK(key.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
type Script = { token: (form: URLSearchParams, headers: Headers) => Response | Promise<Response>; userinfo: () => Response };
const seen: { form: URLSearchParams; headers: Headers }[] = [];
let script: Script;

const up = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    const base = url.origin;
    const doc = (issuer: string, extra: Record<string, unknown> = {}) => Response.json({
      issuer, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`, userinfo_endpoint: `${base}/userinfo`, jwks_uri: `${base}/jwks`,
      code_challenge_methods_supported: ["S256"], ...extra,
    });
    switch (url.pathname) {
      case "/.well-known/openid-configuration": return doc(base);
      case "/nopkce/.well-known/openid-configuration": return doc(`${base}/nopkce`, { code_challenge_methods_supported: ["plain"] });
      case "/nojwks/.well-known/openid-configuration": return doc(`${base}/nojwks`, { jwks_uri: undefined });
      case "/notjson/.well-known/openid-configuration": return new Response("<html>hello</html>", { headers: { "content-type": "text/html" } });
      case "/jwks": return Response.json({ keys: [jwk] });
      case "/token": {
        const form = new URLSearchParams(await req.text());
        seen.push({ form, headers: req.headers });
        return script.token(form, req.headers);
      }
      case "/userinfo": return script.userinfo();
      default: return new Response("not found", { status: 404 });
    }
  },
});
afterAll(() => up.stop(true));
const ISSUER = `http://127.0.0.1:${up.port}`;

/** The ID token the provider returns: for our client, the flow's nonce, one minute old. */
function idToken(clientId: string, nonce: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ nonce, ...claims }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(ISSUER).setAudience(clientId).setSubject((claims.sub as string) ?? "up-user-1").setIssuedAt().setExpirationTime("5m").sign(key.privateKey);
}

async function register(body: Record<string, unknown>) {
  const r = await a.call("POST", "/admin/idps", { body: { kind: "oidc", issuer: ISSUER, name: body.slug, ...body } });
  expect(r.status).toBe(201);
  return r.body;
}

/** From the RP's authorization request at A to the provider: the state and nonce A sent there. */
async function start(slug: string): Promise<{ browser: Browser; state: string; nonce: string }> {
  const browser = Browser.forServer(a.url);
  const { challenge } = pkce();
  const page = await browser.open(authorizeUrl(authParams(rp, challenge, { idp_hint: slug })));
  expect(page.location!.startsWith(`${ISSUER}/authorize?`)).toBe(true);
  const q = new URL(page.location!).searchParams;
  return { browser, state: q.get("state")!, nonce: q.get("nonce")! };
}

/** The provider redirects back to A's callback with a code (or the given parameters). */
function callback(f: { browser: Browser; state: string }, params: Record<string, string> = { code: "the-code" }): Promise<Page> {
  return f.browser.open(`/federation/callback?${new URLSearchParams({ ...params, state: f.state, iss: ISSUER })}`);
}

const tokens = (idt: string | undefined) => Response.json({ access_token: "up-at", token_type: "Bearer", expires_in: 60, ...(idt ? { id_token: idt } : {}) });

async function sessionOf(subject: string, slug: string) {
  const [row] = await a.deps.sql<{ amr: string[]; acr: string; auth_time: Date; upstream_sub: string; upstream_sid: string | null; email: string | null }[]>`
    SELECT s.amr, s.acr, s.auth_time, s.upstream_sub, s.upstream_sid, u.email FROM user_identities i JOIN upstream_idps p ON p.id = i.idp_id
    JOIN sessions s ON s.user_id = i.user_id JOIN users u ON u.id = i.user_id WHERE p.slug = ${slug} AND i.subject = ${subject} ORDER BY s.created_at DESC LIMIT 1`;
  return row;
}

describe("registering a provider by its discovery document", () => {
  test("refused: no PKCE S256, no jwks_uri, an answer that is not JSON, a 404; nothing stored", async () => {
    const cases: [string, string][] = [
      [`${ISSUER}/nopkce`, "the provider does not support PKCE with S256 (RFC 7636)"],
      [`${ISSUER}/nojwks`, "the discovery document's jwks_uri is missing"],
      [`${ISSUER}/notjson`, "the answer is not a JSON document"],
      [`${ISSUER}/gone`, `${ISSUER}/gone/.well-known/openid-configuration answered HTTP 404`],
    ];
    for (const [issuer, message] of cases) {
      const r = await a.call("POST", "/admin/idps", { body: { slug: "refused", name: "R", kind: "oidc", issuer, client_id: "c" } });
      expect(r.status).toBe(400);
      expect(r.body.fields).toContainEqual({ field: "issuer", message });
    }
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM upstream_idps WHERE slug = 'refused'`)[0]!.n).toBe(0);
  });
});

describe("our client authentication at the provider's token endpoint", () => {
  test("client_secret_basic form-encodes the client id and secret before Base64 (RFC 6749 §2.3.1); the code_verifier and redirect_uri are sent", async () => {
    await register({ slug: "basic", client_id: "our client", client_secret: "a b:c+d%" });
    const f = await start("basic");
    script = { token: async (form) => tokens(await idToken("our client", f.nonce, { sub: "basic-1" })), userinfo: () => Response.json({ sub: "basic-1" }) };
    seen.length = 0;
    const end = await callback(f);
    expect(end.location?.startsWith("https://rp.example.com/callback")).toBe(true);
    const { form, headers } = seen[0]!;
    expect(headers.get("authorization")).toBe(`Basic ${btoa("our+client:a+b%3Ac%2Bd%25")}`);
    expect(form.get("client_secret")).toBeNull();
    expect(form.get("grant_type")).toBe("authorization_code");
    expect(form.get("code")).toBe("the-code");
    expect(form.get("redirect_uri")).toBe(`${a.url}/federation/callback`);
    expect(form.get("code_verifier")).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
  });

  test("private_key_jwt: a fresh assertion per request, signed by the key at our JWKS URL, iss = sub = client_id, aud = the token endpoint, 60 s (RFC 7523 §3)", async () => {
    const idp = await register({ slug: "keyed", client_id: "keyed-client", token_endpoint_auth_method: "private_key_jwt", client_key_alg: "ES256" });
    const keys = createLocalJWKSet(await (await fetch(idp.client_jwks_uri)).json());
    const assertions: string[] = [];
    for (let i = 0; i < 2; i++) {
      const f = await start("keyed");
      script = { token: async (form) => tokens(await idToken("keyed-client", f.nonce, { sub: "keyed-1" })), userinfo: () => Response.json({ sub: "keyed-1" }) };
      seen.length = 0;
      expect((await callback(f)).location?.startsWith("https://rp.example.com/callback")).toBe(true);
      const { form, headers } = seen[0]!;
      expect(headers.get("authorization")).toBeNull();
      expect(form.get("client_id")).toBe("keyed-client");
      expect(form.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
      assertions.push(form.get("client_assertion")!);
    }
    for (const assertion of assertions) {
      const { payload, protectedHeader } = await jwtVerify(assertion, keys, { issuer: "keyed-client", subject: "keyed-client", audience: `${ISSUER}/token` });
      expect(protectedHeader).toMatchObject({ alg: "ES256", kid: idp.client_key.kid });
      expect(payload.exp! - payload.iat!).toBe(60);
      expect(payload.aud).toBe(`${ISSUER}/token`);
    }
    expect(decodeJwt(assertions[0]!).jti).not.toBe(decodeJwt(assertions[1]!).jti);
  });
});

describe("idp_hint, however the authorization request arrives", () => {
  test("a pushed authorization request (RFC 9126) carrying idp_hint goes straight to the provider; a malformed hint shows the login page", async () => {
    await register({ slug: "hinted", client_id: "hinted-client" });
    const push = async (hint: string) => {
      const { challenge } = pkce();
      const params = Object.fromEntries(Object.entries(authParams(rp, challenge, { idp_hint: hint })).filter(([, v]) => v !== undefined)) as Record<string, string>;
      const r = await fetch(`${a.url}/oauth/par`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${rp.client_id}:${rp.client_secret}`)}` },
        body: new URLSearchParams(params).toString(),
      });
      expect(r.status).toBe(201);
      const { request_uri } = (await r.json()) as { request_uri: string };
      return Browser.forServer(a.url).open(`/oauth/authorize?${new URLSearchParams({ client_id: rp.client_id, request_uri })}`);
    };
    const page = await push("hinted");
    expect(page.location!.startsWith(`${ISSUER}/authorize?`)).toBe(true);
    expect(new URL(page.location!).searchParams.get("client_id")).toBe("hinted-client");
    const odd = await push("../HINTED");
    expect(odd.location).toBeUndefined();
    expect(odd.html).toContain("Sign in with hinted");
  });
});

describe("what the session records of the upstream's assertion", () => {
  test("amr mfa raises our acr to mfa; unregistered amr values are dropped; the upstream sid is kept for its logout tokens", async () => {
    await register({ slug: "strong", client_id: "strong-client" });
    const f = await start("strong");
    const authTime = Math.floor(Date.now() / 1000) - 300;
    script = { token: async () => tokens(await idToken("strong-client", f.nonce, { sub: "strong-1", sid: "up-sid-1", amr: ["pwd", "otp", "mfa", "made-up"], auth_time: authTime, acr: "https://upstream.example/loa3" })), userinfo: () => Response.json({ sub: "strong-1" }) };
    expect((await callback(f)).location?.startsWith("https://rp.example.com/callback")).toBe(true);
    const s = await sessionOf("strong-1", "strong");
    expect(s).toMatchObject({ amr: ["mfa", "otp", "pwd"], acr: "urn:authly:acr:mfa", upstream_sub: "strong-1", upstream_sid: "up-sid-1" });
    expect(Math.floor(s!.auth_time.getTime() / 1000)).toBe(authTime);
  });

  test("an auth_time in the future is not believed: the time of the callback is recorded", async () => {
    const f = await start("strong");
    script = { token: async () => tokens(await idToken("strong-client", f.nonce, { sub: "strong-2", auth_time: Math.floor(Date.now() / 1000) + 3600 })), userinfo: () => Response.json({ sub: "strong-2" }) };
    const before = Date.now();
    expect((await callback(f)).location?.startsWith("https://rp.example.com/callback")).toBe(true);
    const s = await sessionOf("strong-2", "strong");
    expect(s!.auth_time.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(s!.auth_time.getTime()).toBeLessThanOrEqual(Date.now());
    expect(s!.acr).toBe("urn:authly:acr:pwd");
  });

  test("userinfo adds claims only when its sub is the ID token's (OIDC Core §5.3.2)", async () => {
    let f = await start("strong");
    script = { token: async () => tokens(await idToken("strong-client", f.nonce, { sub: "strong-3" })), userinfo: () => Response.json({ sub: "someone-else", email: "victim@example.com", email_verified: true }) };
    expect((await callback(f)).location?.startsWith("https://rp.example.com/callback")).toBe(true);
    expect((await sessionOf("strong-3", "strong"))!.email).toBeNull();
    f = await start("strong");
    script = { token: async () => tokens(await idToken("strong-client", f.nonce, { sub: "strong-4" })), userinfo: () => Response.json({ sub: "strong-4", email: "strong4@example.com", email_verified: true }) };
    expect((await callback(f)).location?.startsWith("https://rp.example.com/callback")).toBe(true);
    expect((await sessionOf("strong-4", "strong"))!.email).toBe("strong4@example.com");
  });
});

describe("a callback that fails shows a plain page (400), is audited with its reason, and signs no one in", () => {
  const failures: [string, (nonce: string) => Script | Record<string, string>, string][] = [
    ["access_denied", () => ({ error: "access_denied" }), "did not complete"],
    ["token_failed", () => ({ token: () => Response.json({ error: "invalid_grant" }, { status: 400 }), userinfo: () => Response.json({}) }), "did not accept the sign-in"],
    ["no_id_token", () => ({ token: () => tokens(undefined), userinfo: () => Response.json({}) }), "did not return an ID token"],
    ["id_token_nonce", () => ({ token: async () => tokens(await idToken("strong-client", "another-nonce", { sub: "strong-9" })), userinfo: () => Response.json({}) }), "does not belong to this sign-in"],
    ["id_token_ERR_JWT_CLAIM_VALIDATION_FAILED", (nonce) => ({ token: async () => tokens(await idToken("another-client", nonce, { sub: "strong-9" })), userinfo: () => Response.json({}) }), "is not valid"],
  ];
  for (const [reason, make, text] of failures) {
    test(reason, async () => {
      const f = await start("strong");
      const s = make(f.nonce);
      let page: Page;
      if ("token" in s) {
        script = s as Script;
        page = await callback(f);
      } else page = await callback(f, s as Record<string, string>);
      expect(page.status).toBe(400);
      expect(page.html).toContain(text);
      expect(page.html).not.toContain("up-at");
      expect((await auditRows(a.deps, "login.federation_failed"))[0]).toMatchObject({ outcome: "denied", target_id: "strong", details: { reason } });
      expect(await sessionOf("strong-9", "strong")).toBeUndefined();
    });
  }

  test("a plain OAuth 2.0 provider whose userinfo fails: userinfo_failed", async () => {
    const r = await a.call("POST", "/admin/idps", {
      body: { slug: "plain", name: "Plain", kind: "oauth2", client_id: "p", client_secret: "s", authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, userinfo_endpoint: `${ISSUER}/userinfo`, claim_mapping: { subject: "id" } },
    });
    expect(r.status).toBe(201);
    const f = await start("plain");
    script = { token: () => tokens(undefined), userinfo: () => new Response("down", { status: 500 }) };
    const page = await f.browser.open(`/federation/callback?${new URLSearchParams({ code: "c", state: f.state })}`);
    expect(page.status).toBe(400);
    expect((await auditRows(a.deps, "login.federation_failed"))[0]!.details).toMatchObject({ reason: "userinfo_failed" });
  });
});
