// The listener answers plain GETs of the metadata and the JWKS before the Elysia pipeline
// (http/fast-routes.ts). Whatever the path, a client must see the same documents and headers as
// through the Elysia routes, the same caching rules (RFC 9110 §13.1.2 If-None-Match, §9.3.2 HEAD),
// and the requests must still be counted and logged.
import { describe, expect, test } from "bun:test";
import type { JSONWebKeySet } from "jose";
import { createApp } from "../../src/app";
import { freePort, startTestServer, testEnv } from "../support/app";
import { createTestDatabase } from "../support/db";
import { startServerProcess } from "../support/process";

const s = await startTestServer({ bootstrap: false });
const app = createApp(s.deps, { accessLog: false });
const DOCUMENTS = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json"];

/** Raw bytes to the listener; what came back before it closed or 2 s passed. */
async function raw(bytes: string): Promise<string> {
  const { connect } = await import("node:net");
  return new Promise<string>((resolve) => {
    let got = "";
    const sock = connect(Number(new URL(s.url).port), "127.0.0.1", () => sock.write(bytes));
    sock.on("data", (d) => (got += d.toString("latin1")));
    sock.on("close", () => resolve(got));
    sock.on("error", () => resolve(got));
    setTimeout(() => {
      sock.destroy();
      resolve(got);
    }, 2000);
  });
}

/** Every response header but Date, in a stable order. */
function headersOf(r: Response): Record<string, string> {
  return Object.fromEntries([...r.headers].filter(([k]) => k !== "date").sort(([a], [b]) => a.localeCompare(b)));
}

describe("public documents on the listener", () => {
  test.each(DOCUMENTS)("GET %s: the same bytes and headers as through the full pipeline", async (path) => {
    const fast = await fetch(s.url + path);
    // A target over 2 KiB is left to the Elysia pipeline (the same listener, the same wire).
    const full = await fetch(`${s.url}${path}?pad=${"a".repeat(3000)}`);
    expect(fast.status).toBe(200);
    expect(full.status).toBe(200);
    expect(headersOf(fast)).toEqual(headersOf(full));
    const body = await fast.text();
    expect(body).toBe(await full.text());
    expect(Number(fast.headers.get("content-length"))).toBe(Buffer.byteLength(body));
    expect(fast.headers.get("access-control-allow-origin")).toBe("*");
    expect(fast.headers.get("x-content-type-options")).toBe("nosniff");
    expect(fast.headers.get("cache-control")).toMatch(/^public, max-age=\d+/);
    // And the same as the route app.handle serves (without the wire's Content-Length).
    const viaApp = await app.handle(new Request(s.url + path));
    const { "content-length": _, ...wireHeaders } = headersOf(fast);
    expect(headersOf(viaApp)).toEqual(wireHeaders);
    expect(await viaApp.text()).toBe(body);
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

  test("JWKS: If-None-Match with the current ETag answers 304; another ETag the whole set", async () => {
    const first = await fetch(`${s.url}/.well-known/jwks.json`);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const cached = await fetch(`${s.url}/.well-known/jwks.json`, { headers: { "If-None-Match": etag } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("etag")).toBe(etag);
    expect(await cached.text()).toBe("");
    const stale = await fetch(`${s.url}/.well-known/jwks.json`, { headers: { "If-None-Match": '"not-the-current-one"' } });
    expect(stale.status).toBe(200);
    expect(((await stale.json()) as JSONWebKeySet).keys.length).toBeGreaterThan(0);
  });

  test("JWKS: a rotation is served at once, with a new ETag", async () => {
    const before = await fetch(`${s.url}/.well-known/jwks.json`);
    const { next } = await s.deps.keys.rotate("ES256");
    await s.deps.keys.refresh();
    const after = await fetch(`${s.url}/.well-known/jwks.json`);
    expect(after.headers.get("etag")).not.toBe(before.headers.get("etag"));
    expect(((await after.json()) as JSONWebKeySet).keys.map((k) => k.kid)).toContain(next);
  });

  test("other methods, bodies and oversized targets take the full pipeline and its answers", async () => {
    const post = await fetch(`${s.url}/.well-known/jwks.json`, { method: "POST" });
    expect(post.status).toBe(404);
    expect(post.headers.get("x-request-id")).toBeTruthy();
    const preflight = await fetch(`${s.url}/.well-known/openid-configuration`, {
      method: "OPTIONS",
      headers: { Origin: "https://rp.example", "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET");
    // A declared body over AUTHLY_MAX_BODY_BYTES: the JSON 413 of the full pipeline.
    const limit = s.deps.config.maxBodyBytes;
    const huge = await raw(`GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${limit + 1}\r\n\r\n`);
    expect(huge).toStartWith("HTTP/1.1 413");
    expect(huge).toContain('"error":"invalid_request"');
    // A small declared body is read and dropped: the next request on the connection is answered.
    const pipelined = await raw("GET /.well-known/jwks.json HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello" + "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    expect(pipelined.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    const long = await fetch(`${s.url}/.well-known/openid-configuration?pad=${"a".repeat(13_000)}`);
    expect(long.status).toBe(431);
    expect(((await long.json()) as { error: string }).error).toBe("invalid_request");
  });

  test("requests answered on the fast path are counted in /metrics", async () => {
    const count = async () => {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith("authly_http_requests_total{") && l.includes('route="/.well-known/jwks.json"') && l.includes('method="GET"') && l.includes('status="200"'));
      return line ? Number(line.split(" ").at(-1)) : 0;
    };
    const before = await count();
    for (let i = 0; i < 5; i++) await (await fetch(`${s.url}/.well-known/jwks.json`)).arrayBuffer();
    expect(await count()).toBe(before + 5);
  });
});

describe("access log", () => {
  test("a fast-path document and an ordinary route each get one access line with a request id", async () => {
    const db = await createTestDatabase();
    const port = await freePort();
    const env = testEnv(db, { AUTHLY_ACCESS_LOG: "true", AUTHLY_LOG_LEVEL: "info", AUTHLY_ISSUER: `http://127.0.0.1:${port}` });
    const server = await startServerProcess(["serve", "--migrate", "--host", "127.0.0.1", "--port", String(port)], { env, port });
    try {
      expect((await fetch(`${server.url}/.well-known/jwks.json`)).status).toBe(200);
      expect((await fetch(`${server.url}/oauth/token`, { method: "POST" })).status).toBe(400);
      const deadline = Date.now() + 5000;
      const lines = () => server.output().split("\n").filter((l) => l.includes('"type":"access"'));
      while (lines().filter((l) => l.includes("jwks.json") || l.includes("/oauth/token")).length < 2 && Date.now() < deadline) await Bun.sleep(50);
      const access = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
      const jwks = access.filter((a) => a.path === "/.well-known/jwks.json");
      const token = access.filter((a) => a.path === "/oauth/token");
      expect(jwks).toHaveLength(1);
      expect(token).toHaveLength(1);
      for (const a of [jwks[0]!, token[0]!]) {
        expect(a.request_id).toMatch(/^[0-9a-f-]{36}$/);
        expect(a.ip).toBe("127.0.0.1");
        expect(typeof a.duration_ms).toBe("number");
      }
      expect(jwks[0]!.status).toBe(200);
      expect(token[0]!.status).toBe(400);
    } finally {
      await server.stop();
    }
  });
});
