// The listener serves the metadata and the JWKS as static routes of Bun's router
// (http/fast-routes.ts). A client must see the same documents and headers as through the Elysia
// routes, the caching rules of RFC 9110 (§13.1.2 If-None-Match, §9.3.2 HEAD), a key rotation at
// once, and every other method still answered by the full pipeline.
import { describe, expect, test } from "bun:test";
import type { JSONWebKeySet } from "jose";
import { createApp } from "../../src/app";
import { freePort, sendRaw, startTestServer, testEnv } from "../support/app";
import { createTestDatabase } from "../support/db";
import { startServerProcess } from "../support/process";
import { loadConfig } from "../../src/config";
import { KEY_CACHE_SECONDS } from "../../src/keys/service";
import { buildDeps, connectDatabase, listen } from "../../src/server";

const s = await startTestServer({ bootstrap: false });
const app = createApp(s.deps, { accessLog: false });
const DOCUMENTS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json"];

const raw = (bytes: string, waitMs?: number) => sendRaw(s.url, bytes, waitMs);

/** Every response header but Date, in a stable order. */
function headersOf(r: Response): Record<string, string> {
  return Object.fromEntries([...r.headers].filter(([k]) => k !== "date").sort(([a], [b]) => a.localeCompare(b)));
}

describe("public documents on the listener", () => {
  test.each(DOCUMENTS)("GET %s: the same bytes and headers as the Elysia route, plus an ETag", async (path) => {
    const fast = await fetch(s.url + path);
    expect(fast.status).toBe(200);
    const body = await fast.text();
    expect(Number(fast.headers.get("content-length"))).toBe(Buffer.byteLength(body));
    expect(fast.headers.get("access-control-allow-origin")).toBe("*");
    expect(fast.headers.get("x-content-type-options")).toBe("nosniff");
    expect(fast.headers.get("cache-control")).toMatch(/^public, max-age=\d+/);
    expect(fast.headers.get("etag")).toMatch(/^"[\w-]+"$/);
    // The route app.handle serves: the same body and headers (the wire adds Content-Length, and
    // the metadata an ETag).
    const viaApp = await app.handle(new Request(s.url + path));
    const { "content-length": _, ...wire } = headersOf(fast);
    if (!viaApp.headers.has("etag")) delete wire.etag;
    expect(headersOf(viaApp)).toEqual(wire);
    expect(await viaApp.text()).toBe(body);
    // A query string changes nothing.
    const withQuery = await fetch(`${s.url}${path}?x=1`);
    expect(await withQuery.text()).toBe(body);
  });

  test("the metadata names the listener's issuer and JWKS (OIDC Discovery §4.3)", async () => {
    const doc = (await (await fetch(`${s.url}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(doc.issuer).toBe(s.url);
    expect(doc.jwks_uri).toBe(`${s.url}/.well-known/jwks.json`);
  });

  test("HEAD answers the headers of GET without a body (RFC 9110 §9.3.2)", async () => {
    for (const path of DOCUMENTS) {
      const get = await fetch(s.url + path);
      const head = await fetch(s.url + path, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
      expect(await head.text()).toBe("");
    }
  });

  test.each(DOCUMENTS)("%s: If-None-Match with the current ETag answers 304; another ETag the whole document", async (path) => {
    const first = await fetch(s.url + path);
    const etag = first.headers.get("etag")!;
    const cached = await fetch(s.url + path, { headers: { "If-None-Match": etag } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("etag")).toBe(etag);
    expect(await cached.text()).toBe("");
    const stale = await fetch(s.url + path, { headers: { "If-None-Match": '"not-the-current-one"' } });
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe(await first.text());
  });

  test("JWKS: a rotation in this process is published at once, with a new ETag", async () => {
    const before = await fetch(`${s.url}/.well-known/jwks.json`);
    const { next } = await s.deps.keys.rotate("ES256");
    // The admin API's rotation reloads the key cache (keys/service.ts), which republishes the route.
    await s.deps.keys.refresh();
    let after = await fetch(`${s.url}/.well-known/jwks.json`);
    for (let i = 0; i < 50 && after.headers.get("etag") === before.headers.get("etag"); i++) {
      await Bun.sleep(20);
      after = await fetch(`${s.url}/.well-known/jwks.json`);
    }
    expect(after.headers.get("etag")).not.toBe(before.headers.get("etag"));
    expect(((await after.json()) as JSONWebKeySet).keys.map((k) => k.kid)).toContain(next);
    const old = await fetch(`${s.url}/.well-known/jwks.json`, { headers: { "If-None-Match": before.headers.get("etag")! } });
    expect(old.status).toBe(200);
  });

  test("JWKS: a rotation made by another process is published within the key cache's age (+5 s)", async () => {
    // A second listener on the same database, with its own key cache (another worker or node).
    const port = await freePort();
    const config = loadConfig(testEnv(s.db, { AUTHLY_HOST: "127.0.0.1", AUTHLY_PORT: String(port), AUTHLY_ISSUER: `http://127.0.0.1:${port}` }), { purpose: "server" });
    const other = await listen(buildDeps(config, await connectDatabase(config)));
    try {
      const { next } = await other.deps.keys.rotate("EdDSA");
      await other.deps.keys.refresh();
      const kids = async () => ((await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet).keys.map((k) => k.kid);
      const started = Date.now();
      while (!(await kids()).includes(next) && Date.now() - started < (KEY_CACHE_SECONDS + 10) * 1000) await Bun.sleep(250);
      expect(await kids()).toContain(next);
      expect(Date.now() - started).toBeLessThan((KEY_CACHE_SECONDS + 6) * 1000);
    } finally {
      await other.stop();
    }
  }, (KEY_CACHE_SECONDS + 20) * 1000);

  test("other methods take the full pipeline; a body on a GET changes nothing", async () => {
    const post = await fetch(`${s.url}/.well-known/jwks.json`, { method: "POST" });
    expect(post.status).toBe(404);
    expect(post.headers.get("x-request-id")).toBeTruthy();
    const preflight = await fetch(`${s.url}/.well-known/openid-configuration`, {
      method: "OPTIONS",
      headers: { Origin: "https://rp.example", "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET");
    // A body on a GET has no meaning (RFC 9110 §9.3.1): it is read and dropped, and the next
    // request on the connection is answered.
    const pipelined = await raw("GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello" + "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    expect(pipelined.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    // A huge declared body that never comes: the document is answered without waiting for it,
    // and the server goes on serving.
    const huge = await raw(`GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${s.deps.config.maxBodyBytes * 2 + 1}\r\n\r\n`, 300);
    expect(huge).toStartWith("HTTP/1.1 200");
    expect((await fetch(`${s.url}/.well-known/jwks.json`)).status).toBe(200);
  });
});

describe("access log", () => {
  test("an ordinary route gets one access line with a request id; the static documents none (documented)", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const env = testEnv(db, { AUTHLY_ACCESS_LOG: "true", AUTHLY_LOG_LEVEL: "info", AUTHLY_ISSUER: `http://127.0.0.1:${port}` });
    const server = await startServerProcess(["serve", "--migrate", "--host", "127.0.0.1", "--port", String(port)], { env, port });
    try {
      expect((await fetch(`${server.url}/.well-known/jwks.json`)).status).toBe(200);
      expect((await fetch(`${server.url}/oauth/token`, { method: "POST" })).status).toBe(400);
      const deadline = Date.now() + 5000;
      const lines = () => server.output().split("\n").filter((l) => l.includes('"type":"access"'));
      while (!lines().some((l) => l.includes("/oauth/token")) && Date.now() < deadline) await Bun.sleep(50);
      const access = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
      const token = access.filter((a) => a.path === "/oauth/token");
      expect(token).toHaveLength(1);
      expect(token[0]!.request_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(token[0]!.ip).toBe("127.0.0.1");
      expect(typeof token[0]!.duration_ms).toBe("number");
      expect(token[0]!.status).toBe(400);
      // Served by Bun's router without JavaScript: no access line (the token line came after it).
      expect(access.filter((a) => a.path === "/.well-known/jwks.json")).toHaveLength(0);
    } finally {
      await server.stop();
    }
  });
});
