// Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document, MCP): a client_id
// that is a URL is resolved by fetching it (outbound rules, caps, HTTP caching), its client_id must
// be that URL, its redirect URIs are exactly the document's, it is public unless it publishes keys
// for private_key_jwt. Tests serve documents on http loopback, which only dev mode accepts.
import { afterAll, describe, expect, test } from "bun:test";
import { createTestApp } from "../support/app";
import { Browser, authorizeUrl, callbackParams, isConsentPage, isLoginPage, pkce } from "../support/browser";
import { assertionKey } from "../support/fixtures";
import { createOidcUser } from "../support/oidc-fixtures";
import { jwtPayload } from "../support/oidc-flow";

const t = await createTestApp({ bootstrap: false });
const user = await createOidcUser(t.deps);
const keys = await assertionKey("ES256");
const hits = new Map<string, number>();
const srv: ReturnType<typeof Bun.serve> = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req): Response {
    const p = new URL(req.url).pathname;
    hits.set(p, (hits.get(p) ?? 0) + 1);
    const self = `http://127.0.0.1:${srv.port}${p}`;
    const base = { client_id: self, client_name: "Notes Agent", redirect_uris: ["http://127.0.0.1:7777/callback"], logo_uri: "https://agent.example.com/logo.png" };
    switch (p) {
      case "/agent.json":
        return Response.json(base, { headers: { "cache-control": "max-age=60" } });
      case "/nostore.json":
        return Response.json(base, { headers: { "cache-control": "no-store" } });
      case "/liar.json":
        return Response.json({ ...base, client_id: "https://elsewhere.example.com/agent.json" });
      case "/secret.json":
        return Response.json({ ...base, token_endpoint_auth_method: "client_secret_basic" });
      case "/big.json":
        return Response.json({ ...base, client_name: "x".repeat(6000) });
      case "/keys.json":
        return Response.json({ ...base, jwks: keys.jwks, token_endpoint_auth_method: "private_key_jwt" });
      default:
        return new Response("no", { status: 404 });
    }
  },
});
afterAll(() => srv.stop(true));
const doc = (p: string) => `http://127.0.0.1:${srv.port}${p}`;
const REDIRECT = "http://127.0.0.1:7777/callback";

async function start(clientId: string, redirectUri = REDIRECT, app = t) {
  const { verifier, challenge } = pkce();
  const b = Browser.forApp(app);
  const page = await b.open(authorizeUrl({ client_id: clientId, redirect_uri: redirectUri, response_type: "code", scope: "openid offline_access", state: "s", code_challenge: challenge, code_challenge_method: "S256" }));
  return { b, page, verifier };
}

describe("client ID metadata documents", () => {
  test("the code flow with PKCE for a client known only by its document URL; the user sees its host", async () => {
    const clientId = doc("/agent.json");
    const s = await start(clientId);
    expect(isLoginPage(s.page)).toBe(true);
    let page = await s.b.submit(s.page, "/login", { login: user.username, password: user.password });
    expect(isConsentPage(page)).toBe(true);
    expect(page.html).toContain(`Notes Agent (127.0.0.1:${srv.port})`);
    // Its logo_uri's host does not resolve: the server could not inline it, so no image (never hot-linked).
    expect(page.html).not.toContain("https://agent.example.com/logo.png");
    page = await s.b.submit(page, "/consent", { decision: "allow" });
    const cb = callbackParams(page.location!);
    const tok = await t.request("/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "authorization_code", code: cb.code!, redirect_uri: REDIRECT, code_verifier: s.verifier, client_id: clientId }).toString() });
    const body = (await tok.json()) as Record<string, string>;
    expect(tok.status).toBe(200);
    expect(jwtPayload(body.access_token!).client_id).toBe(clientId);
    expect(body.refresh_token).toBeTruthy();
    // Cached by its max-age: the whole flow fetched the document once.
    expect(hits.get("/agent.json")).toBe(1);
  });

  test("redirect URIs are exactly the document's: another one is never redirected to", async () => {
    const s = await start(doc("/agent.json"), "http://127.0.0.1:7777/other");
    expect(s.page.status).toBe(400);
    expect(s.page.location).toBeUndefined();
  });

  test("a document that names another client_id, holds a secret method, or is too large names no client", async () => {
    for (const p of ["/liar.json", "/secret.json", "/big.json", "/missing.json"]) {
      const s = await start(doc(p));
      expect(s.page.status, p).toBe(400);
      expect(s.page.html, p).toContain("not registered");
    }
  });

  test("no-store is honoured: the document is fetched again", async () => {
    await start(doc("/nostore.json"));
    const first = hits.get("/nostore.json")!;
    expect(first).toBeGreaterThan(0);
    await start(doc("/nostore.json"));
    expect(hits.get("/nostore.json")).toBe(first * 2);
  });

  test("a document with keys makes a private_key_jwt client: the token endpoint wants its assertion", async () => {
    const clientId = doc("/keys.json");
    const none = await t.request("/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "x", client_id: clientId }).toString() });
    expect(none.status).toBe(401);
    const assertion = await keys.sign(clientId, `${t.issuer}/oauth/token`);
    const signed = await t.request("/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: "x", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: assertion }).toString() });
    // Authenticated; the refresh token itself is unknown.
    expect(((await signed.json()) as { error: string }).error).toBe("invalid_grant");
  });

  test("a private address is refused by the outbound rules", async () => {
    const s = await start("https://10.0.0.1/agent.json");
    expect(s.page.status).toBe(400);
  });

  test("off (AUTHLY_CLIENT_ID_METADATA_DOCUMENTS=false), or http outside dev mode: the URL names no client", async () => {
    const envs: Record<string, string>[] = [{ AUTHLY_CLIENT_ID_METADATA_DOCUMENTS: "false" }, { AUTHLY_DEV_MODE: "false", AUTHLY_CLIENT_ID_METADATA_DOCUMENTS: "true" }];
    for (const env of envs) {
      const app = await createTestApp({ bootstrap: false, env });
      const before = hits.get("/agent.json") ?? 0;
      const s = await start(doc("/agent.json"), REDIRECT, app);
      expect(s.page.status).toBe(400);
      expect(hits.get("/agent.json") ?? 0).toBe(before);
    }
  });
});
