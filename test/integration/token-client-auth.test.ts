// Client authentication at the token endpoint (RFC 6749 §2.3, §5.2; RFC 7523 §2.2, §3):
// exactly one method per request, only the registered one, 401 invalid_client with
// WWW-Authenticate when HTTP Basic was tried.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { assertionKey, basic, createClient, form, post, type CreatedClient } from "../support/fixtures";

const t: TestApp = await createTestApp({ bootstrap: false });
const TOKEN_URL = "http://localhost/oauth/token";
let basicClient: CreatedClient;
let postClient: CreatedClient;
let jwtKey: Awaited<ReturnType<typeof assertionKey>>;
let jwksServer: ReturnType<typeof Bun.serve>;
let remoteKey: Awaited<ReturnType<typeof assertionKey>>;

async function call(init: RequestInit) {
  const r = await t.request("/oauth/token", init);
  return { status: r.status, headers: r.headers, body: (await r.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  // An id and secret with characters RFC 6749 §2.3.1 requires to be form-encoded in Basic.
  basicClient = await createClient(t.deps, { client_id: "svc:one two", secret: "s3cr+t:/=%é", grant_types: ["client_credentials"], scopes: ["api:read"] });
  postClient = await createClient(t.deps, { client_id: "svc-post", token_endpoint_auth_method: "client_secret_post", grant_types: ["client_credentials"], scopes: ["api:read"] });
  jwtKey = await assertionKey("ES256");
  await createClient(t.deps, { client_id: "svc-jwt", token_endpoint_auth_method: "private_key_jwt", jwks: jwtKey.jwks, grant_types: ["client_credentials"], scopes: ["api:read"] });
  remoteKey = await assertionKey("EdDSA");
  jwksServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json(remoteKey.jwks) });
  await createClient(t.deps, { client_id: "svc-jwks-uri", token_endpoint_auth_method: "private_key_jwt", jwks_uri: `http://127.0.0.1:${jwksServer.port}/jwks`, grant_types: ["client_credentials"], scopes: ["api:read"] });
  await createClient(t.deps, { client_id: "svc-off", grant_types: ["client_credentials"], is_active: false, secret: "inactive-secret" });
  await createClient(t.deps, { client_id: "public-app", token_endpoint_auth_method: "none" });
});
afterAll(() => jwksServer?.stop(true));

const cc = { grant_type: "client_credentials" };
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

function expectInvalidClient(r: { status: number; headers: Headers; body: Record<string, unknown> }, withBasicChallenge: boolean) {
  expect(r.body.error).toBe("invalid_client");
  expect(r.status).toBe(401);
  expect(r.headers.get("cache-control")).toBe("no-store");
  if (withBasicChallenge) expect(r.headers.get("www-authenticate")).toMatch(/^Basic realm="authly"/);
  else expect(r.headers.get("www-authenticate")).toBeNull();
}

describe("client_secret_basic (RFC 6749 §2.3.1)", () => {
  test("accepts form-encoded id and secret", async () => {
    const r = await call(post(cc, { id: "svc:one two", secret: "s3cr+t:/=%é" }));
    expect(r.status).toBe(200);
  });

  test("rejects a wrong secret: 401 invalid_client with WWW-Authenticate: Basic", async () => {
    expectInvalidClient(await call(post(cc, { id: "svc:one two", secret: "wrong" })), true);
  });

  test("rejects an unknown client the same way", async () => {
    expectInvalidClient(await call(post(cc, { id: "nobody", secret: "whatever" })), true);
  });

  test("rejects malformed Basic credentials with 401 and a Basic challenge", async () => {
    const f = form(cc);
    expectInvalidClient(await call({ method: "POST", body: f.body, headers: { ...f.headers, Authorization: "Basic !!!not-base64" } }), true);
    expectInvalidClient(await call({ method: "POST", body: f.body, headers: { ...f.headers, Authorization: `Basic ${btoa("no-colon")}` } }), true);
  });

  test("rejects a client registered for client_secret_post using Basic", async () => {
    expectInvalidClient(await call(post(cc, { id: "svc-post", secret: postClient.secret! })), true);
  });

  test("rejects an inactive client", async () => {
    expectInvalidClient(await call(post(cc, { id: "svc-off", secret: "inactive-secret" })), true);
  });

  test("a body client_id that differs from the Basic id is invalid_request", async () => {
    const r = await call(post({ ...cc, client_id: "svc-post" }, { id: "svc:one two", secret: "s3cr+t:/=%é" }));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
  });
});

describe("client_secret_post", () => {
  test("accepts id and secret in the body", async () => {
    expect((await call(post({ ...cc, client_id: "svc-post", client_secret: postClient.secret! }))).status).toBe(200);
  });

  test("a wrong secret is 401 invalid_client without a Basic challenge", async () => {
    expectInvalidClient(await call(post({ ...cc, client_id: "svc-post", client_secret: "nope" })), false);
  });

  test("a Basic client may not switch to client_secret_post", async () => {
    expectInvalidClient(await call(post({ ...cc, client_id: "svc:one two", client_secret: "s3cr+t:/=%é" })), false);
  });

  test("client_secret without client_id is invalid_client", async () => {
    expectInvalidClient(await call(post({ ...cc, client_secret: "x" })), false);
  });
});

describe("exactly one method (RFC 6749 §2.3)", () => {
  test("Basic and client_secret in the body together is invalid_request", async () => {
    const r = await call(post({ ...cc, client_secret: basicClient.secret! }, { id: "svc:one two", secret: "s3cr+t:/=%é" }));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
  });

  test("Basic and a client assertion together is invalid_request", async () => {
    const assertion = await jwtKey.sign("svc-jwt", TOKEN_URL);
    const r = await call(post({ ...cc, client_assertion_type: assertionType, client_assertion: assertion }, { id: "svc:one two", secret: "s3cr+t:/=%é" }));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
  });

  test("no client authentication at all is 401 invalid_client", async () => {
    expectInvalidClient(await call(post(cc)), false);
  });

  test("a confidential client presenting only its client_id is 401 invalid_client", async () => {
    expectInvalidClient(await call(post({ ...cc, client_id: "svc-post" })), false);
  });

  test("a public client with a made-up secret is 401 invalid_client", async () => {
    expectInvalidClient(await call(post({ grant_type: "refresh_token", refresh_token: "x", client_id: "public-app", client_secret: "made-up" })), false);
  });
});

describe("private_key_jwt (RFC 7523)", () => {
  const withAssertion = (assertion: string, extra: Record<string, string> = {}) => post({ ...cc, client_assertion_type: assertionType, client_assertion: assertion, ...extra });

  test("accepts an assertion signed with a registered key, audience = token endpoint or issuer", async () => {
    expect((await call(withAssertion(await jwtKey.sign("svc-jwt", TOKEN_URL)))).status).toBe(200);
    expect((await call(withAssertion(await jwtKey.sign("svc-jwt", t.issuer)))).status).toBe(200);
  });

  test("rejects a replayed jti (RFC 7523 §3 item 7)", async () => {
    const a = await jwtKey.sign("svc-jwt", TOKEN_URL, { jti: "once-only" });
    expect((await call(withAssertion(a))).status).toBe(200);
    expectInvalidClient(await call(withAssertion(a)), false);
    const again = await jwtKey.sign("svc-jwt", TOKEN_URL, { jti: "once-only" });
    expectInvalidClient(await call(withAssertion(again)), false);
  });

  test("rejects a wrong audience, a foreign key, a far-future expiry and a foreign subject", async () => {
    expectInvalidClient(await call(withAssertion(await jwtKey.sign("svc-jwt", "https://elsewhere.example/token"))), false);
    const stranger = await assertionKey("ES256");
    expectInvalidClient(await call(withAssertion(await stranger.sign("svc-jwt", TOKEN_URL))), false);
    expectInvalidClient(await call(withAssertion(await jwtKey.sign("svc-jwt", TOKEN_URL, { expSeconds: 86400 }))), false);
    expectInvalidClient(await call(withAssertion(await jwtKey.sign("svc-post", TOKEN_URL))), false);
  });

  test("rejects a wrong client_assertion_type with invalid_request", async () => {
    const r = await call(post({ ...cc, client_assertion_type: "urn:example:other", client_assertion: await jwtKey.sign("svc-jwt", TOKEN_URL) }));
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
  });

  test("a client registered for private_key_jwt may not use a secret", async () => {
    expectInvalidClient(await call(post({ ...cc, client_id: "svc-jwt", client_secret: "x" })), false);
  });

  test("keys are fetched from the client's jwks_uri", async () => {
    expect((await call(withAssertion(await remoteKey.sign("svc-jwks-uri", TOKEN_URL)))).status).toBe(200);
    expectInvalidClient(await call(withAssertion(await jwtKey.sign("svc-jwks-uri", TOKEN_URL))), false);
  });

  test("client assertions are only stored as hashes with an expiry", async () => {
    const rows = await t.deps.sql<{ jti_hash: string; client_id: string }[]>`SELECT jti_hash, client_id FROM client_assertion_jtis`;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.some((r) => r.jti_hash.includes("once-only"))).toBe(false);
  });

  test("basic() helper form-encodes as RFC 6749 §2.3.1 requires", () => {
    expect(atob(basic("a b", "c:d").slice(6))).toBe("a+b:c%3Ad");
  });
});
