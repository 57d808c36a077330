// Pushed authorization requests (RFC 9126) and signed request objects (RFC 9101, JAR): the PAR
// endpoint (client authentication, validation, JSON errors, the request_uri), the follow-up at the
// authorization endpoint (single use, bound to the client, races), clients and servers that
// require PAR, request objects by value and inside PAR, and what discovery says about them.
// Multi-node parts skip on PGlite (one backend: two pools there would not be two nodes).
import { afterAll, describe, expect, test } from "bun:test";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { updateClient } from "../../src/clients/service";
import { randomToken } from "../../src/lib/crypto";
import { createSecondNode, createTestApp, type TestApp } from "../support/app";
import { Browser, authorizeUrl, callbackParams, pkce } from "../support/browser";
import { basic, post } from "../support/fixtures";
import { createOidcClient, createOidcUser, type OidcTestClient } from "../support/oidc-fixtures";
import { authParams, exchangeCode } from "../support/oidc-flow";

const t: TestApp = await createTestApp();
const user = await createOidcUser(t.deps);
const PAR = "/oauth/par";
const URN = "urn:ietf:params:oauth:request_uri:";
const REDIRECTS = ["https://rp.example.com/callback", "https://rp.example.com/other"];
const ACTOR = { userId: null, ip: "127.0.0.1" };

/** A signing key of a client and a signer of request objects (RFC 9101 §4) or assertions (RFC 7523). */
async function clientKey(alg = "ES256") {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: randomToken(8), alg, use: "sig" };
  return {
    jwks: { keys: [jwk] },
    privateKey: privateKey as CryptoKey,
    kid: jwk.kid!,
    /** A request object of `clientId` with `claims`; `over` changes the JWT claims or header. */
    requestObject(clientId: string, claims: Record<string, unknown>, over: { header?: Record<string, unknown>; jwt?: JWTPayload; expSeconds?: number; omit?: string[] } = {}): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      const payload: Record<string, unknown> = { iss: clientId, aud: t.issuer, exp: now + (over.expSeconds ?? 60), nbf: now, iat: now, jti: randomToken(12), client_id: clientId, ...claims, ...over.jwt };
      for (const k of over.omit ?? []) delete payload[k];
      return new SignJWT(payload).setProtectedHeader({ alg, kid: jwk.kid, typ: "oauth-authz-req+jwt", ...over.header }).sign(privateKey as CryptoKey);
    },
    assertion(clientId: string, aud: string): Promise<string> {
      return new SignJWT({}).setProtectedHeader({ alg, kid: jwk.kid }).setIssuer(clientId).setSubject(clientId).setAudience(aud).setIssuedAt().setExpirationTime("60s").setJti(randomToken(12)).sign(privateKey as CryptoKey);
    },
  };
}

// A confidential client with a secret, a private_key_jwt client, a public client, another client.
const rp: OidcTestClient = await createOidcClient(t.deps, { client_name: "PAR RP", redirect_uris: REDIRECTS });
const key = await clientKey("ES256");
const jwtRp: OidcTestClient = await createOidcClient(t.deps, { client_name: "JAR RP", redirect_uris: REDIRECTS });
await t.deps.sql`UPDATE clients SET token_endpoint_auth_method = 'private_key_jwt', secret_hash = NULL, jwks = ${t.deps.sql.json(key.jwks as never)} WHERE client_id = ${jwtRp.client_id}`;
const spa: OidcTestClient = await createOidcClient(t.deps, { client_type: "public", client_name: "PAR SPA", redirect_uris: REDIRECTS });
const other: OidcTestClient = await createOidcClient(t.deps, { client_name: "Other RP", redirect_uris: REDIRECTS });
const secretAuth = { id: rp.client_id, secret: rp.client_secret! };

async function push(params: Record<string, string | undefined>, auth: { id: string; secret: string } | null = secretAuth, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await t.request(PAR, post(params, auth ?? undefined, headers));
  return { status: r.status, body: await r.json(), headers: r.headers };
}

/** A pushed request of `rp` (or the given client); returns its request_uri and PKCE verifier. */
async function pushed(extra: Record<string, string | undefined> = {}, client: OidcTestClient = rp): Promise<{ uri: string; verifier: string; state: string }> {
  const { verifier, challenge } = pkce();
  const params = authParams(client, challenge, extra);
  const r = await push(params, client.client_secret ? { id: client.client_id, secret: client.client_secret } : null);
  expect(r.status).toBe(201);
  return { uri: r.body.request_uri, verifier, state: params.state! };
}

/** Follows the authorization request through login and consent to the client's redirect URI. */
async function complete(b: Browser, url: string): Promise<{ location: string; callback: Record<string, string> }> {
  let page = await b.open(url);
  if (/<h1>Sign in<\/h1>/.test(page.html)) page = await b.submit(page, "/login", { login: user.username, password: user.password });
  if (/wants to access your account/.test(page.html)) page = await b.submit(page, "/consent", { decision: "allow" });
  if (!page.location) throw new Error(`flow stopped at ${page.url} (${page.status}):\n${page.html.slice(0, 1500)}`);
  return { location: page.location, callback: callbackParams(page.location) };
}

async function expectErrorPage(r: Response, text?: string): Promise<string> {
  expect(r.status).toBe(400);
  expect(r.headers.get("location")).toBeNull();
  expect(r.headers.get("content-type")).toContain("text/html");
  const html = await r.text();
  if (text) expect(html).toContain(text);
  return html;
}

function expectRedirectError(r: Response, error: string, redirectUri = rp.redirect_uri): Record<string, string> {
  expect(r.status).toBe(303);
  const loc = r.headers.get("location")!;
  expect(loc.startsWith(redirectUri + "?")).toBe(true);
  const p = callbackParams(loc);
  expect(p.error).toBe(error);
  expect(p.iss).toBe(t.issuer);
  expect(p.code).toBeUndefined();
  return p;
}

describe("the pushed authorization request endpoint (RFC 9126 §2)", () => {
  test("answers 201 with a request_uri URN of at least 128 random bits and expires_in, not cached (RFC 9126 §2.2)", async () => {
    const { challenge } = pkce();
    const r = await push(authParams(rp, challenge));
    expect(r.status).toBe(201);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.headers.get("content-type")).toContain("application/json");
    expect(r.body.expires_in).toBe(60);
    expect(r.body.request_uri.startsWith(URN)).toBe(true);
    const random = r.body.request_uri.slice(URN.length);
    expect(Buffer.from(random, "base64url").length * 8).toBeGreaterThanOrEqual(128);
    const again = await push(authParams(rp, challenge));
    expect(again.body.request_uri).not.toBe(r.body.request_uri);
  });

  test("the request_uri is a bearer reference: only its hash is stored, and no client credential is kept (RFC 9126 §7.1)", async () => {
    const postRp = await createOidcClient(t.deps, { token_endpoint_auth_method: "client_secret_post", redirect_uris: REDIRECTS });
    const { challenge } = pkce();
    const r = await push({ ...authParams(postRp, challenge), client_secret: postRp.client_secret }, null);
    expect(r.status).toBe(201);
    const rows = await t.deps.sql`SELECT * FROM pushed_authorization_requests`;
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(r.body.request_uri.slice(URN.length));
    expect(dump).not.toContain(postRp.client_secret!);
    expect(rows.length).toBeGreaterThan(0);
  });

  test("client authentication as at the token endpoint: a wrong secret or none at all is 401 invalid_client (RFC 9126 §2, RFC 6749 §2.3)", async () => {
    const { challenge } = pkce();
    const wrong = await push(authParams(rp, challenge), { id: rp.client_id, secret: "wrong-secret-value" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe("invalid_client");
    expect(wrong.headers.get("www-authenticate")).toContain("Basic");
    // A confidential client that sends only its client_id has not authenticated.
    const none = await push(authParams(rp, challenge), null);
    expect(none.status).toBe(401);
    expect(none.body.error).toBe("invalid_client");
  });

  test("private_key_jwt with the PAR endpoint or the issuer as audience authenticates the push (RFC 9126 §2, RFC 7523 §3)", async () => {
    for (const aud of [`${t.issuer}${PAR}`, t.issuer]) {
      const { challenge } = pkce();
      const r = await push({ ...authParams(jwtRp, challenge), client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await key.assertion(jwtRp.client_id, aud) }, null);
      expect(r.status).toBe(201);
    }
    const { challenge } = pkce();
    const replayed = await key.assertion(jwtRp.client_id, t.issuer);
    const body = { ...authParams(jwtRp, challenge), client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: replayed };
    expect((await push(body, null)).status).toBe(201);
    expect((await push(body, null)).body.error).toBe("invalid_client");
  });

  test("a public client pushes with its client_id alone (RFC 9126 §2)", async () => {
    const { challenge } = pkce();
    const r = await push(authParams(spa, challenge), null);
    expect(r.status).toBe(201);
  });

  test("client_id in the body is required and must be the authenticated client's (RFC 9126 §2.1)", async () => {
    const { challenge } = pkce();
    const r = await push(authParams(other, challenge), secretAuth);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
    const missing = await push(authParams(rp, challenge, { client_id: undefined }), secretAuth);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe("invalid_request");
    expect(missing.body.error_description).toContain("client_id");
  });

  test("a request_uri inside a pushed request is invalid_request (RFC 9126 §2.1)", async () => {
    const { challenge } = pkce();
    const r = await push({ ...authParams(rp, challenge), request_uri: `${URN}abc` });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request");
  });

  test("errors are JSON with the authorization endpoint's code, never a redirect or a page (RFC 9126 §2.3)", async () => {
    const { challenge } = pkce();
    const cases: [Record<string, string | undefined>, string][] = [
      [{ redirect_uri: "https://evil.example/cb" }, "invalid_request"],
      [{ redirect_uri: undefined }, "invalid_request"],
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ response_type: undefined }, "invalid_request"],
      [{ code_challenge: undefined }, "invalid_request"],
      [{ code_challenge_method: "plain" }, "invalid_request"],
      [{ scope: "not-a-scope" }, "invalid_scope"],
      [{ prompt: "none login" }, "invalid_request"],
      [{ max_age: "-1" }, "invalid_request"],
      [{ response_mode: "fragment" }, "invalid_request"],
      [{ resource: "https://unknown.example/api" }, "invalid_target"],
    ];
    for (const [extra, code] of cases) {
      const r = await push(authParams(rp, challenge, extra));
      expect(r.status).toBe(400);
      expect(r.headers.get("location")).toBeNull();
      expect(r.headers.get("content-type")).toContain("application/json");
      expect({ extra, error: r.body.error }).toEqual({ extra, error: code });
    }
  });

  test("one validator: every request the authorization endpoint refuses with a redirect, PAR refuses with the same error code (RFC 9126 §2.1)", async () => {
    const { challenge } = pkce();
    const cases: Record<string, string | undefined>[] = [
      { response_type: "code id_token" },
      { code_challenge: "short" },
      { scope: "openid unknown-only", prompt: "select_account none" },
      { claims: "{not json" },
      { id_token_hint: "not.a.jwt" },
      { max_age: "1e3" },
      { request: "not-a-jwt" },
    ];
    for (const extra of cases) {
      const front = await t.request(authorizeUrl(authParams(rp, challenge, extra)));
      expect(front.status).toBe(303);
      const frontError = callbackParams(front.headers.get("location")!).error;
      const pushedError = (await push(authParams(rp, challenge, extra))).body.error;
      expect({ extra, pushedError }).toEqual({ extra, pushedError: frontError });
    }
  });

  test("only POST with a form body: another method is 405, another body invalid_request (RFC 9126 §2.1, §2.3)", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const r = await t.request(PAR, { method });
      expect(r.status).toBe(405);
      expect(r.headers.get("allow")).toBe("POST");
      expect((await r.json()).error).toBe("invalid_request");
    }
    const r = await t.request(PAR, { method: "POST", headers: { "content-type": "application/json", authorization: basic(rp.client_id, rp.client_secret!) }, body: "{}" });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toBe("invalid_request");
  });
});

describe("the authorization request with a request_uri (RFC 9126 §4)", () => {
  test("client_id + request_uri runs the pushed request through login and consent to a code the token endpoint accepts (RFC 9126 §4)", async () => {
    const { uri, verifier, state } = await pushed({ scope: "openid profile" });
    const b = Browser.forApp(t);
    const { location, callback } = await complete(b, authorizeUrl({ client_id: rp.client_id, request_uri: uri }));
    expect(location.startsWith(rp.redirect_uri + "?")).toBe(true);
    expect(callback.state).toBe(state);
    expect(callback.iss).toBe(t.issuer);
    const tokens = await exchangeCode(t, rp, callback.code!, verifier);
    expect(tokens.status).toBe(200);
    expect(tokens.body.scope.split(" ").sort()).toEqual(["openid", "profile"]);
  });

  test("parameters sent beside request_uri are ignored, the pushed ones used (RFC 9126 §4)", async () => {
    const { uri, state } = await pushed({ redirect_uri: REDIRECTS[1] });
    const b = Browser.forApp(t);
    const { location, callback } = await complete(b, authorizeUrl({ client_id: rp.client_id, request_uri: uri, redirect_uri: REDIRECTS[0], state: "outside", scope: "openid email", response_type: "token", code_challenge: undefined }));
    expect(location.startsWith(REDIRECTS[1] + "?")).toBe(true);
    expect(callback.state).toBe(state);
    expect(callback.code).toBeTruthy();
  });

  test("a request_uri is single use: the second use is invalid_request_uri, shown as a page (RFC 9126 §4, RFC 9101 §7)", async () => {
    const { uri } = await pushed();
    const first = await t.request(authorizeUrl({ client_id: rp.client_id, request_uri: uri }));
    expect(first.status).toBe(303);
    await expectErrorPage(await t.request(authorizeUrl({ client_id: rp.client_id, request_uri: uri, redirect_uri: rp.redirect_uri })), "request_uri");
  });

  test("race: two uses of one request_uri at once, exactly one proceeds (RFC 9126 §4)", async () => {
    for (let round = 0; round < 3; round++) {
      const { uri } = await pushed();
      const results = await Promise.all(Array.from({ length: 4 }, () => t.request(authorizeUrl({ client_id: rp.client_id, request_uri: uri }))));
      expect(results.filter((r) => r.status === 303).length).toBe(1);
      expect(results.filter((r) => r.status === 400).length).toBe(3);
    }
  });

  test("bound to the client: another client_id cannot use it, and the attempt does not burn it (RFC 9126 §4)", async () => {
    const { uri } = await pushed();
    await expectErrorPage(await t.request(authorizeUrl({ client_id: other.client_id, request_uri: uri })));
    expect((await t.request(authorizeUrl({ client_id: rp.client_id, request_uri: uri }))).status).toBe(303);
  });

  test("an expired request_uri is invalid_request_uri (RFC 9126 §4: an expired request_uri MUST be rejected)", async () => {
    const { uri } = await pushed();
    await t.deps.sql`UPDATE pushed_authorization_requests SET expires_at = now() - interval '1 second' WHERE client_id = ${rp.client_id}`;
    const html = await expectErrorPage(await t.request(authorizeUrl({ client_id: rp.client_id, request_uri: uri })));
    expect(html).toContain("expired");
  });

  test("an unknown request_uri of ours is invalid_request_uri, never redirected (RFC 9101 §7)", async () => {
    await expectErrorPage(await t.request(authorizeUrl({ client_id: rp.client_id, request_uri: `${URN}${randomToken(32)}`, redirect_uri: rp.redirect_uri, state: "x" })));
  });

  test("oidcc-request-uri-unsigned / oidcc-request-uri-signed-rs256: a request_uri that is not ours is request_uri_not_supported and never fetched (RFC 9101 §5.2)", async () => {
    let hits = 0;
    const host = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => { hits++; return new Response(""); } });
    try {
      const { challenge } = pkce();
      const r = await t.request(authorizeUrl(authParams(rp, challenge, { request_uri: `http://127.0.0.1:${host.port}/request.jwt`, state: "ru" })));
      expect(expectRedirectError(r, "request_uri_not_supported").state).toBe("ru");
      expect(hits).toBe(0);
    } finally {
      host.stop(true);
    }
  });

  test("a request_uri without a trusted redirect_uri beside it is refused on a page (RFC 6749 §4.1.2.1)", async () => {
    await expectErrorPage(await t.request(authorizeUrl({ client_id: rp.client_id, request_uri: "https://rp.example.com/request.jwt", redirect_uri: "https://evil.example/cb" })));
  });
});

describe("several nodes on one database (RFC 9126 §4: state in PostgreSQL)", () => {
  // PGlite serves one connection through one backend: two pools there would not be two nodes.
  const multiNode = t.db.engine !== "pglite";
  let closeB = async () => {};
  afterAll(() => closeB());

  test.skipIf(!multiNode)("a request pushed to one node is served by another, and one use raced on both nodes proceeds once (RFC 9126 §4)", async () => {
    const second = createSecondNode(t);
    closeB = second.close;
    const nodeB = (path: string) => second.request(path);
    const { uri } = await pushed();
    expect((await nodeB(authorizeUrl({ client_id: rp.client_id, request_uri: uri }))).status).toBe(303);
    for (let round = 0; round < 3; round++) {
      const { uri: raced } = await pushed();
      const url = authorizeUrl({ client_id: rp.client_id, request_uri: raced });
      const results = await Promise.all([t.request(url), nodeB(url), t.request(url), nodeB(url)]);
      expect(results.map((r) => r.status).sort()).toEqual([303, 400, 400, 400]);
    }
  });
});

describe("clients and servers that require PAR (RFC 9126 §5, §6)", () => {
  test("a client registered with require_pushed_authorization_requests is refused without a request_uri, and served with one (RFC 9126 §6)", async () => {
    const strict = await createOidcClient(t.deps, { client_name: "Strict RP", redirect_uris: REDIRECTS });
    const updated = await updateClient(t.deps, ACTOR, strict.client_id, { require_pushed_authorization_requests: true });
    expect(updated.require_pushed_authorization_requests).toBe(true);
    const { challenge } = pkce();
    const p = expectRedirectError(await t.request(authorizeUrl(authParams(strict, challenge, { state: "s" }))), "invalid_request");
    expect(p.error_description).toContain("pushed authorization request");
    expect(p.state).toBe("s");
    const { uri } = await pushed({}, strict);
    expect((await t.request(authorizeUrl({ client_id: strict.client_id, request_uri: uri }))).status).toBe(303);
  });

  test("AUTHLY_REQUIRE_PAR requires PAR of every client, discovery says so, and AUTHLY_PAR_TTL sets expires_in (RFC 9126 §5)", async () => {
    const strictApp = await createTestApp({ env: { AUTHLY_REQUIRE_PAR: "true", AUTHLY_PAR_TTL: "30" } });
    const c = await createOidcClient(strictApp.deps, { redirect_uris: REDIRECTS });
    const meta = await (await strictApp.request("/.well-known/openid-configuration")).json();
    expect(meta.require_pushed_authorization_requests).toBe(true);
    const { challenge } = pkce();
    const refused = await strictApp.request(authorizeUrl(authParams(c, challenge)));
    expect(refused.status).toBe(303);
    expect(callbackParams(refused.headers.get("location")!).error).toBe("invalid_request");
    const r = await strictApp.request(PAR, post(authParams(c, challenge), { id: c.client_id, secret: c.client_secret! }));
    expect(r.status).toBe(201);
    const body = await r.json();
    expect(body.expires_in).toBe(30);
    expect((await strictApp.request(authorizeUrl({ client_id: c.client_id, request_uri: body.request_uri }))).status).toBe(303);
  });
});

describe("signed request objects (RFC 9101)", () => {
  async function viaObject(claims: Record<string, unknown>, over: Parameters<typeof key.requestObject>[2] = {}, outside: Record<string, string | undefined> = {}): Promise<Response> {
    const request = await key.requestObject(jwtRp.client_id, claims, over);
    return t.request(authorizeUrl({ client_id: jwtRp.client_id, redirect_uri: jwtRp.redirect_uri, request, ...outside }));
  }
  function inner(extra: Record<string, unknown> = {}) {
    const { verifier, challenge } = pkce();
    return { verifier, claims: { response_type: "code", redirect_uri: jwtRp.redirect_uri, scope: "openid", state: "inner-state", nonce: "n1", code_challenge: challenge, code_challenge_method: "S256", ...extra } };
  }
  const expectInvalidObject = (r: Response) => expectRedirectError(r, "invalid_request_object", jwtRp.redirect_uri);

  test("the parameters inside a signed request object are used and those outside ignored, client_id excepted (RFC 9101 §6.3)", async () => {
    const { claims, verifier } = inner({ scope: "openid profile", max_age: 600, claims: { id_token: { email: null } } });
    const request = await key.requestObject(jwtRp.client_id, claims);
    const b = Browser.forApp(t);
    const { callback } = await complete(b, authorizeUrl({ client_id: jwtRp.client_id, request, state: "outer-state", scope: "openid email", response_type: "token" }));
    expect(callback.state).toBe("inner-state");
    // JSON members of the object (claims, a numeric max_age) are parameters like any others.
    const tok = await t.request("/oauth/token", post({ grant_type: "authorization_code", code: callback.code, redirect_uri: jwtRp.redirect_uri, code_verifier: verifier, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await key.assertion(jwtRp.client_id, t.issuer) }));
    const body = await tok.json();
    expect(body.scope.split(" ").sort()).toEqual(["openid", "profile"]);
    const idToken = JSON.parse(Buffer.from(body.id_token.split(".")[1], "base64url").toString());
    expect(idToken.email).toBe(user.email);
    expect(idToken.nonce).toBe("n1");
  });

  test("oidcc-ensure-request-object-with-redirect-uri: the redirect_uri inside the signed object wins over the one outside (RFC 9101 §6.3)", async () => {
    const { claims } = inner({ redirect_uri: REDIRECTS[1] });
    const request = await key.requestObject(jwtRp.client_id, claims);
    const b = Browser.forApp(t);
    const { location } = await complete(b, authorizeUrl({ client_id: jwtRp.client_id, redirect_uri: REDIRECTS[0], request }));
    expect(location.startsWith(REDIRECTS[1] + "?")).toBe(true);
  });

  test("a redirect_uri inside the object that is not registered is never redirected to (RFC 6749 §4.1.2.1)", async () => {
    const { claims } = inner({ redirect_uri: "https://evil.example/cb" });
    await expectErrorPage(await viaObject(claims));
  });

  test("alg none and symmetric algorithms are refused: invalid_request_object (RFC 9101 §6.1, request_object_signing_alg_values_supported)", async () => {
    const { claims } = inner();
    const none = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${Buffer.from(JSON.stringify({ ...claims, iss: jwtRp.client_id, aud: t.issuer, exp: Math.floor(Date.now() / 1000) + 60, jti: "n" })).toString("base64url")}.`;
    expectInvalidObject(await t.request(authorizeUrl({ client_id: jwtRp.client_id, redirect_uri: jwtRp.redirect_uri, request: none })));
    const hs = await new SignJWT({ ...claims, iss: jwtRp.client_id, aud: t.issuer, jti: "h" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("60s").sign(new TextEncoder().encode("a-shared-secret-of-enough-length!!"));
    expectInvalidObject(await t.request(authorizeUrl({ client_id: jwtRp.client_id, redirect_uri: jwtRp.redirect_uri, request: hs })));
  });

  test("a request object signed by a key the client did not register is invalid_request_object (RFC 9101 §6.2)", async () => {
    const stranger = await clientKey("ES256");
    const { claims } = inner();
    const request = await stranger.requestObject(jwtRp.client_id, claims, { header: { kid: key.kid } });
    expectInvalidObject(await t.request(authorizeUrl({ client_id: jwtRp.client_id, redirect_uri: jwtRp.redirect_uri, request })));
  });

  test("iss must be the client and aud our issuer (RFC 9101 §4, §6.2)", async () => {
    const { claims } = inner();
    expectInvalidObject(await viaObject(claims, { jwt: { aud: "https://other-as.example" } }));
    expectInvalidObject(await viaObject(claims, { jwt: { iss: other.client_id } }));
    expectInvalidObject(await viaObject(claims, { omit: ["aud"] }));
  });

  test("exp is required and bounded, an expired or not-yet-valid object is refused (RFC 9101 §10.8, RFC 7519 §4.1.4-5)", async () => {
    const { claims } = inner();
    expectInvalidObject(await viaObject(claims, { omit: ["exp"] }));
    expectInvalidObject(await viaObject(claims, { expSeconds: -120 }));
    expectInvalidObject(await viaObject(claims, { expSeconds: 2 * 3600 }));
    expectInvalidObject(await viaObject(claims, { jwt: { nbf: Math.floor(Date.now() / 1000) + 600 } }));
  });

  test("jti is required and used once: a replayed request object is refused (RFC 9101 §10.8 replay)", async () => {
    const { claims } = inner();
    expectInvalidObject(await viaObject(claims, { omit: ["jti"] }));
    const request = await key.requestObject(jwtRp.client_id, claims);
    expect((await t.request(authorizeUrl({ client_id: jwtRp.client_id, request }))).status).toBe(303);
    const again = await t.request(authorizeUrl({ client_id: jwtRp.client_id, redirect_uri: jwtRp.redirect_uri, request }));
    expect(expectInvalidObject(again).error_description).toContain("already used");
  });

  test("client_id inside must be the client's, and client_id outside must be the object's issuer (RFC 9101 §5)", async () => {
    const { claims } = inner();
    expectInvalidObject(await viaObject({ ...claims, client_id: other.client_id }));
    const request = await key.requestObject(jwtRp.client_id, claims);
    const r = await t.request(authorizeUrl({ client_id: other.client_id, redirect_uri: other.redirect_uri, request }));
    expectRedirectError(r, "invalid_request_object", other.redirect_uri);
  });

  test("request or request_uri inside a request object, or both outside, are refused (RFC 9101 §4, §5)", async () => {
    const { claims } = inner();
    expectInvalidObject(await viaObject({ ...claims, request_uri: `${URN}x` }));
    expectInvalidObject(await viaObject({ ...claims, request: "x.y.z" }));
    const request = await key.requestObject(jwtRp.client_id, claims);
    expectRedirectError(await t.request(authorizeUrl({ client_id: jwtRp.client_id, redirect_uri: jwtRp.redirect_uri, request, request_uri: `${URN}x` })), "invalid_request", jwtRp.redirect_uri);
  });

  test("a typ other than oauth-authz-req+jwt is refused, so no other JWT passes for a request object (RFC 9101 §10.8)", async () => {
    const { claims } = inner();
    expectInvalidObject(await viaObject(claims, { header: { typ: "dpop+jwt" } }));
    expect((await viaObject(claims, { header: { typ: "JWT" } })).status).toBe(303);
  });

  test("the parameters inside are validated like any others: a missing code_challenge goes back as invalid_request (RFC 9101 §6.3, OAuth 2.1 §4.1.1)", async () => {
    const { claims } = inner({ code_challenge: undefined });
    delete (claims as Record<string, unknown>).code_challenge;
    const p = expectRedirectError(await viaObject(claims), "invalid_request", jwtRp.redirect_uri);
    expect(p.state).toBe("inner-state");
  });

  test("every advertised algorithm verifies: RS256, PS256, ES256, EdDSA (request_object_signing_alg_values_supported)", async () => {
    for (const alg of ["RS256", "PS256", "ES256", "EdDSA"]) {
      const k = await clientKey(alg);
      const c = await createOidcClient(t.deps, { redirect_uris: REDIRECTS });
      await t.deps.sql`UPDATE clients SET token_endpoint_auth_method = 'private_key_jwt', secret_hash = NULL, jwks = ${t.deps.sql.json(k.jwks as never)} WHERE client_id = ${c.client_id}`;
      const { claims } = inner({ redirect_uri: c.redirect_uri });
      const r = await t.request(authorizeUrl({ client_id: c.client_id, request: await k.requestObject(c.client_id, claims) }));
      expect({ alg, status: r.status, location: r.headers.get("location")?.includes("error=") ?? false }).toEqual({ alg, status: 303, location: false });
    }
  });

  test("keys from the client's jwks_uri verify request objects too (RFC 9101 §6.2, RFC 7591 jwks_uri)", async () => {
    const remote = await clientKey("PS256");
    const host = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json(remote.jwks) });
    try {
      const c = await createOidcClient(t.deps, { redirect_uris: REDIRECTS });
      await t.deps.sql`UPDATE clients SET token_endpoint_auth_method = 'private_key_jwt', secret_hash = NULL, jwks_uri = ${`http://127.0.0.1:${host.port}/jwks`} WHERE client_id = ${c.client_id}`;
      const { claims } = inner({ redirect_uri: c.redirect_uri });
      const request = await remote.requestObject(c.client_id, claims);
      expect((await t.request(authorizeUrl({ client_id: c.client_id, request }))).status).toBe(303);
    } finally {
      host.stop(true);
    }
  });

  test("PAR accepts a signed request object, authenticated with private_key_jwt, and the follow-up completes (RFC 9126 §3)", async () => {
    const { claims, verifier } = inner({ state: "par-jar" });
    const request = await key.requestObject(jwtRp.client_id, claims);
    const r = await push({ client_id: jwtRp.client_id, request, scope: "ignored-outside", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await key.assertion(jwtRp.client_id, t.issuer) }, null);
    expect(r.status).toBe(201);
    const b = Browser.forApp(t);
    const { callback } = await complete(b, authorizeUrl({ client_id: jwtRp.client_id, request_uri: r.body.request_uri }));
    expect(callback.state).toBe("par-jar");
    const assertion = await key.assertion(jwtRp.client_id, `${t.issuer}/oauth/token`);
    const tok = await t.request("/oauth/token", post({ grant_type: "authorization_code", code: callback.code, redirect_uri: jwtRp.redirect_uri, code_verifier: verifier, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertion }));
    expect(tok.status).toBe(200);
  });

  test("a bad request object at PAR is a JSON invalid_request_object (RFC 9126 §2.3)", async () => {
    const { claims } = inner();
    const request = await key.requestObject(jwtRp.client_id, claims, { jwt: { aud: "https://other-as.example" } });
    const r = await push({ client_id: jwtRp.client_id, request, client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await key.assertion(jwtRp.client_id, t.issuer) }, null);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("invalid_request_object");
  });
});

describe("discovery (RFC 8414, RFC 9126 §5, RFC 9101 §9)", () => {
  test("advertises the PAR endpoint, whether it is required, request objects and their algorithms, and no fetched request_uri", async () => {
    const meta = await (await t.request("/.well-known/openid-configuration")).json();
    expect(meta.pushed_authorization_request_endpoint).toBe(`${t.issuer}/oauth/par`);
    expect(meta.require_pushed_authorization_requests).toBe(false);
    expect(meta.request_parameter_supported).toBe(true);
    expect(meta.request_object_signing_alg_values_supported).toEqual(["RS256", "PS256", "ES256", "EdDSA"]);
    expect(meta.request_object_signing_alg_values_supported).not.toContain("none");
    expect(meta.request_uri_parameter_supported).toBe(false);
  });
});

