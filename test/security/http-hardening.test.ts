// HTTP hardening (issue 8 "Hostile input"): body and header size limits answer 413/431 with the
// JSON error shape; the CORS policy opens exactly the browser-facing endpoints (OAuth 2.1 §6,
// OIDC Core §5.3, RFC 8414) and never the authorization endpoint, login/consent or admin API;
// X-Forwarded-For is believed only from AUTHLY_TRUSTED_PROXIES.
import { describe, expect, test } from "bun:test";
import { CORS_ENDPOINTS } from "../../src/http/cors";
import { clientIp } from "../../src/http/request-context";
import { DRAIN_MAX_BYTES } from "../../src/http/limits";
import { sendRaw, startTestServer } from "../support/app";
import { createOidcClient } from "../support/oidc-fixtures";

const plain = await startTestServer({ env: { AUTHLY_MAX_BODY_BYTES: "4096", AUTHLY_ADMIN_RATE_LIMIT: "100000" } });
const proxied = await startTestServer({ env: { AUTHLY_TRUSTED_PROXIES: "loopback", AUTHLY_ADMIN_RATE_LIMIT: "100000" } });

const FORM = { "content-type": "application/x-www-form-urlencoded" };

describe("size limits", () => {
  test("a body over AUTHLY_MAX_BODY_BYTES answers 413 with a JSON error (RFC 9110 §15.5.14)", async () => {
    for (const path of ["/oauth/token", "/oauth/introspect", "/admin/clients", "/interaction/x/login"]) {
      const r = await fetch(plain.url + path, { method: "POST", headers: FORM, body: "a=" + "x".repeat(5000) });
      expect({ path, status: r.status }).toEqual({ path, status: 413 });
      expect(r.headers.get("content-type")).toContain("application/json");
      expect((await r.json()).error).toBe("invalid_request");
    }
  });

  test("a body far beyond the limit is still cut (413), chunked bodies included", async () => {
    const big = await fetch(plain.url + "/oauth/token", { method: "POST", headers: FORM, body: "a=" + "x".repeat(200_000) });
    expect(big.status).toBe(413);
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new TextEncoder().encode("x".repeat(1000)));
        c.close();
      },
    });
    const chunked = await fetch(plain.url + "/oauth/token", { method: "POST", headers: FORM, body: chunks });
    expect([400, 413]).toContain(chunked.status);
    expect(chunked.status).not.toBe(500);
  });

  // Issue 12 item 12: the server answered 413 and closed before reading the body, so clients still
  // sending saw a connection reset (or Bun's empty 413) instead of the JSON error. The listener now
  // reads such a body, up to DRAIN_MAX_BYTES past the limit and DRAIN_MAX_MS, before answering.
  const TWO_MIB = 2 * 1024 * 1024;
  /** Writes a request and its body in 64 KiB writes, as a client does; returns all it read back. */
  const sendBody = async (head: string, chunks: Uint8Array[]): Promise<{ reply: string; error?: string }> => {
    const { connect } = await import("node:net");
    return new Promise((resolve) => {
      let reply = "";
      let error: string | undefined;
      const sock = connect(Number(new URL(plain.url).port), "127.0.0.1", async () => {
        sock.write(head);
        for (const c of chunks) if (!sock.write(c)) await new Promise((r) => sock.once("drain", r));
      });
      sock.on("data", (d) => (reply += d.toString("latin1")));
      sock.on("error", (e) => (error = (e as NodeJS.ErrnoException).code ?? String(e)));
      sock.on("close", () => resolve({ reply, error }));
      setTimeout(() => sock.destroy(), 10_000);
    });
  };
  const pieces = (total: number, size = 64 * 1024) => Array.from({ length: Math.ceil(total / size) }, () => new Uint8Array(size).fill(0x61));

  test("a 2 MiB body is read before the 413, so the client reads the JSON error (Content-Length, raw socket)", async () => {
    const { reply } = await sendBody(`POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${TWO_MIB}\r\n\r\n`, pieces(TWO_MIB));
    expect(reply).toStartWith("HTTP/1.1 413");
    expect(reply).toContain(`"error":"invalid_request"`);
    expect(reply.toLowerCase()).toContain("connection: close");
  });

  test("a 2 MiB chunked body is read before the 413, so the client reads the JSON error (raw socket)", async () => {
    const enc = new TextEncoder();
    const chunked = pieces(TWO_MIB).flatMap((p) => [enc.encode(`${p.length.toString(16)}\r\n`), p, enc.encode("\r\n")]);
    chunked.push(enc.encode("0\r\n\r\n"));
    const { reply } = await sendBody("POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n", chunked);
    expect(reply).toStartWith("HTTP/1.1 413");
    expect(reply).toContain(`"error":"invalid_request"`);
  });

  test("fetch reads the 413 JSON of a 2 MiB body, sent whole or streamed (chunked)", async () => {
    const whole = await fetch(plain.url + "/oauth/token", { method: "POST", headers: FORM, body: "a=" + "x".repeat(TWO_MIB) });
    expect(whole.status).toBe(413);
    expect((await whole.json()).error).toBe("invalid_request");
    const parts = pieces(TWO_MIB);
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => (parts.length ? c.enqueue(parts.shift()!) : c.close()) });
    const streamed = await fetch(plain.url + "/oauth/token", { method: "POST", headers: FORM, body: stream });
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error).toBe("invalid_request");
  });

  test("a chunked body within the limit still reaches the endpoint", async () => {
    const parts = [new TextEncoder().encode("grant_type=nope&pad="), new TextEncoder().encode("x".repeat(3000))];
    const stream = new ReadableStream<Uint8Array>({ pull: (c) => (parts.length ? c.enqueue(parts.shift()!) : c.close()) });
    const r = await fetch(plain.url + "/oauth/token", { method: "POST", headers: FORM, body: stream });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toBe("unsupported_grant_type");
  });

  test("a declared body beyond the drain bound is refused at once, unread (Bun's bare 413): the drain is no resource sink", async () => {
    const size = DRAIN_MAX_BYTES + 4096 * 4;
    const { reply } = await sendBody(`POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${size * 4}\r\n\r\n`, pieces(64 * 1024));
    expect(reply).toStartWith("HTTP/1.1 413");
  });

  test("a body within the limit is processed normally", async () => {
    const r = await fetch(plain.url + "/oauth/token", { method: "POST", headers: FORM, body: "grant_type=nope&pad=" + "x".repeat(3000) });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toBe("unsupported_grant_type");
  });

  test("oversized headers answer 431 with a JSON error (RFC 6585 §5)", async () => {
    const r = await fetch(plain.url + "/health", { headers: { "x-pad": "y".repeat(13_000) } });
    expect(r.status).toBe(431);
    expect((await r.json()).error).toBe("invalid_request");
    const many = await fetch(plain.url + "/health", { headers: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, "v".repeat(60)])) });
    expect(many.status).toBe(431);
    const huge = await fetch(plain.url + "/health", { headers: { "x-pad": "y".repeat(100_000) } });
    expect(huge.status).toBe(431);
    const longUrl = await fetch(plain.url + "/oauth/authorize?state=" + "s".repeat(14_000));
    expect(longUrl.status).toBe(431);
  });

  test("a malformed Content-Length is refused, not trusted", async () => {
    const { connect } = await import("node:net");
    const port = Number(new URL(plain.url).port);
    const reply = await new Promise<string>((resolve) => {
      let got = "";
      const sock = connect(port, "127.0.0.1", () => sock.write("POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"));
      sock.on("data", (d) => (got += d.toString()));
      sock.on("close", () => resolve(got));
      sock.on("error", () => resolve(got));
      setTimeout(() => sock.destroy(), 3000);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 4\d\d/);
  });
});

describe("malformed HTTP on the wire", () => {
  const raw = (bytes: string | Uint8Array) => sendRaw(plain.url, bytes);

  test("garbage request lines, bad headers and smuggling attempts get a 4xx (505 for an unknown HTTP version) or a closed connection, and the server keeps serving", async () => {
    const cases: (string | Uint8Array)[] = [
      "GARBAGE\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/9.9\r\nHost: x\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: x\r\nX: a\u0000b\r\n\r\n",
      "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\nhello",
      "POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin/status HTTP/1.1\r\nHost: x\r\n\r\n",
      "POST /oauth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n",
      "GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
      new Uint8Array([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]),
      "GET /health HTTP/1.1\r\nHost: x\r\n",
    ];
    for (const c of cases) {
      const reply = await raw(c);
      if (process.env.WIRE_TRACE) console.log(JSON.stringify(String(c).slice(0, 50)), "=>", JSON.stringify(reply.slice(0, 60)));
      expect({ sent: String(c).slice(0, 60), ok: reply === "" || /^HTTP\/1\.1 ([2-4]\d\d|505)/.test(reply), reply: reply.slice(0, 80) }).toMatchObject({ ok: true });
      // Request smuggling (duplicate Content-Length, CL+TE, bad chunks): refused, and no second
      // (smuggled) request is answered on the same connection.
      if (/Content-Length: 5\r\n(Content-Length|Transfer-Encoding)|chunked\r\n\r\nzz/.test(String(c))) {
        expect(reply).toStartWith("HTTP/1.1 400");
        expect(reply.match(/HTTP\/1\.1 \d{3}/g)?.length).toBe(1);
      }
      // 505 (HTTP Version Not Supported) is Bun's correct answer to HTTP/9.9; no other 5xx.
      expect(reply).not.toMatch(/HTTP\/1\.1 5(0[0-4]|0[6-9]|[1-9]\d)/);
    }
    expect((await fetch(plain.url + "/health")).status).toBe(200);
  }, 60_000);
});

describe("CORS", () => {
  const ORIGIN = "https://spa.example.test";

  test("preflight to every browser-facing endpoint is allowed without credentials", async () => {
    for (const [path, methods] of Object.entries(CORS_ENDPOINTS)) {
      const r = await fetch(plain.url + path, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": methods[0]!, "access-control-request-headers": "authorization, content-type" } });
      expect({ path, status: r.status }).toEqual({ path, status: 204 });
      expect(r.headers.get("access-control-allow-origin")).toBe("*");
      expect(r.headers.get("access-control-allow-credentials")).toBeNull();
      expect(r.headers.get("access-control-allow-methods")).toContain(methods[0]!);
      expect(r.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
    }
  });

  test("actual responses of those endpoints, errors included, are readable cross-origin", async () => {
    const cases: [string, RequestInit][] = [
      ["/oauth/token", { method: "POST", headers: { ...FORM, origin: ORIGIN }, body: "grant_type=client_credentials&client_id=nobody&client_secret=x" }],
      ["/oauth/revoke", { method: "POST", headers: { ...FORM, origin: ORIGIN }, body: "token=x&client_id=nobody" }],
      ["/oauth/introspect", { method: "POST", headers: { ...FORM, origin: ORIGIN }, body: "token=x" }],
      ["/oidc/userinfo", { headers: { origin: ORIGIN, authorization: "Bearer nope" } }],
      ["/.well-known/jwks.json", { headers: { origin: ORIGIN } }],
      ["/.well-known/openid-configuration", { headers: { origin: ORIGIN } }],
      ["/.well-known/oauth-authorization-server", { headers: { origin: ORIGIN } }],
    ];
    for (const [path, init] of cases) {
      const r = await fetch(plain.url + path, init);
      expect({ path, acao: r.headers.get("access-control-allow-origin") }).toEqual({ path, acao: "*" });
      expect(r.headers.get("access-control-allow-credentials")).toBeNull();
      await r.arrayBuffer();
    }
  });

  test("token, introspection and revocation answers carry the common headers, successes and errors alike", async () => {
    const rp = await createOidcClient(plain.deps, { grant_types: ["client_credentials"], scopes: ["openid"] });
    const basic = { ...FORM, origin: ORIGIN, authorization: `Basic ${btoa(`${rp.client_id}:${rp.client_secret}`)}` };
    const issued = await fetch(plain.url + "/oauth/token", { method: "POST", headers: basic, body: "grant_type=client_credentials" });
    const token = ((await issued.json()) as { access_token: string }).access_token;
    const answers: [string, Response][] = [
      ["token ok", issued],
      ["token error", await fetch(plain.url + "/oauth/token", { method: "POST", headers: basic, body: "grant_type=nonsense" })],
      ["token unauthenticated", await fetch(plain.url + "/oauth/token", { method: "POST", headers: { ...FORM, origin: ORIGIN }, body: "grant_type=client_credentials&client_id=nobody&client_secret=x" })],
      ["introspection ok", await fetch(plain.url + "/oauth/introspect", { method: "POST", headers: basic, body: `token=${token}` })],
      ["introspection error", await fetch(plain.url + "/oauth/introspect", { method: "POST", headers: basic, body: "" })],
      ["revocation ok", await fetch(plain.url + "/oauth/revoke", { method: "POST", headers: basic, body: `token=${token}` })],
      ["revocation error", await fetch(plain.url + "/oauth/revoke", { method: "POST", headers: { ...FORM, origin: ORIGIN }, body: "token=x" })],
    ];
    expect(answers.map(([what, r]) => [what, r.status >= 400])).toEqual([
      ["token ok", false], ["token error", true], ["token unauthenticated", true], ["introspection ok", false],
      ["introspection error", true], ["revocation ok", false], ["revocation error", true],
    ]);
    for (const [what, r] of answers) {
      const h = (name: string) => r.headers.get(name);
      expect({ what, id: /^[0-9a-f-]{36}$/.test(h("x-request-id") ?? ""), nosniff: h("x-content-type-options"), referrer: h("referrer-policy"), acao: h("access-control-allow-origin"), expose: h("access-control-expose-headers"), store: h("cache-control") })
        .toEqual({ what, id: true, nosniff: "nosniff", referrer: "no-referrer", acao: "*", expose: "WWW-Authenticate, Retry-After, DPoP-Nonce", store: "no-store" });
      await r.arrayBuffer().catch(() => {});
    }
  });

  test("the authorization endpoint, login and consent pages and the admin API send no CORS headers", async () => {
    const paths: [string, string][] = [
      ["GET", "/oauth/authorize?client_id=x&response_type=code"],
      ["POST", "/oauth/authorize"],
      ["GET", "/interaction/abc"],
      ["POST", "/interaction/abc/login"],
      ["POST", "/interaction/abc/consent"],
      ["GET", "/admin/status"],
      ["POST", "/admin/clients"],
      ["GET", "/admin/health"],
      ["GET", "/oidc/logout"],
      ["GET", "/metrics"],
    ];
    for (const [method, path] of paths) {
      const pre = await fetch(plain.url + path, { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": method, "access-control-request-headers": "authorization" } });
      expect({ path, preflight: pre.headers.get("access-control-allow-origin") }).toEqual({ path, preflight: null });
      expect(pre.status).not.toBe(204);
      await pre.arrayBuffer();
      const r = await fetch(plain.url + path, { method, headers: { origin: ORIGIN, ...(method === "POST" ? FORM : {}) }, body: method === "POST" ? "a=1" : undefined, redirect: "manual" });
      expect({ path, acao: r.headers.get("access-control-allow-origin") }).toEqual({ path, acao: null });
      expect(r.headers.get("access-control-allow-credentials")).toBeNull();
      await r.arrayBuffer();
    }
  });
});

describe("trusted proxies", () => {
  test("clientIp: X-Forwarded-For is ignored unless the peer is a trusted proxy; then the right-most untrusted hop wins", () => {
    const req = (xff?: string) => new Request("http://x/", { headers: xff ? { "x-forwarded-for": xff } : {} });
    expect(clientIp(req("203.0.113.9"), "198.51.100.1", [])).toBe("198.51.100.1");
    expect(clientIp(req("203.0.113.9"), "198.51.100.1", ["10.0.0.1"])).toBe("198.51.100.1");
    expect(clientIp(req("203.0.113.9"), "10.0.0.1", ["10.0.0.1"])).toBe("203.0.113.9");
    // A client that sends its own X-Forwarded-For cannot pick its address: the proxy appends the real one.
    expect(clientIp(req("1.2.3.4, 203.0.113.9"), "10.0.0.1", ["10.0.0.1"])).toBe("203.0.113.9");
    expect(clientIp(req("203.0.113.9, 10.0.0.2"), "10.0.0.1", ["10.0.0.1", "10.0.0.2"])).toBe("203.0.113.9");
    expect(clientIp(req(), "10.0.0.1", ["10.0.0.1"])).toBe("10.0.0.1");
    expect(clientIp(req("203.0.113.9"), "::ffff:127.0.0.1", ["loopback"])).toBe("203.0.113.9");
  });

  test("clientIp: a hop that is not an address ends the chain of trust, so free text never becomes a client address", () => {
    const req = (xff: string) => new Request("http://x/", { headers: { "x-forwarded-for": xff } });
    expect(clientIp(req("not-an-ip"), "10.0.0.1", ["10.0.0.1"])).toBe("10.0.0.1");
    expect(clientIp(req("203.0.113.9, ' OR 1=1 --"), "10.0.0.1", ["10.0.0.1"])).toBe("10.0.0.1");
    expect(clientIp(req("junk, 10.0.0.2"), "10.0.0.1", ["10.0.0.1", "10.0.0.2"])).toBe("10.0.0.2");
    expect(clientIp(req("2001:db8::7"), "10.0.0.1", ["10.0.0.1"])).toBe("2001:db8::7");
  });

  test("untrusted peer: X-Forwarded-For is not believed for the audited address, and the relayed request is not loopback for the admin API", async () => {
    // 127.0.0.1 sending X-Forwarded-For without being a trusted proxy may be a same-host reverse
    // proxy relaying anyone: the loopback-only admin API refuses it.
    const r = await fetch(plain.url + "/admin/health", { headers: { "x-forwarded-for": "203.0.113.66" } });
    expect(r.status).toBe(403);
    expect((await fetch(plain.url + "/admin/health")).status).toBe(200);
    await failLogin(plain.url, "203.0.113.66", "spoof-untrusted");
    const [row] = await plain.db.sql<{ source_ip: string }[]>`SELECT source_ip FROM audit_log WHERE action = 'login.failure' ORDER BY id DESC LIMIT 1`;
    expect(row?.source_ip).toBe("127.0.0.1");
  });

  test("trusted proxy: the forwarded client address is used for the admin API check and the audit log", async () => {
    const r = await fetch(proxied.url + "/admin/health", { headers: { "x-forwarded-for": "203.0.113.77" } });
    expect(r.status).toBe(403);
    expect((await r.json()).error).toBe("forbidden");
    await failLogin(proxied.url, "1.1.1.1, 203.0.113.77", "spoof-trusted");
    const [row] = await proxied.db.sql<{ source_ip: string }[]>`SELECT source_ip FROM audit_log WHERE action = 'login.failure' ORDER BY id DESC LIMIT 1`;
    expect(row?.source_ip).toBe("203.0.113.77");
  });
});

describe("forwarded scheme and host", () => {
  test("X-Forwarded-Proto and X-Forwarded-Host change neither the issuer, the endpoints nor cookie attributes, trusted proxy or not", async () => {
    for (const srv of [plain, proxied]) {
      const base = await (await fetch(srv.url + "/.well-known/openid-configuration")).json();
      const spoofed = await (await fetch(srv.url + "/.well-known/openid-configuration", { headers: { "x-forwarded-proto": "https", "x-forwarded-host": "evil.example", "x-forwarded-for": "203.0.113.1", forwarded: "proto=https;host=evil.example" } })).json();
      expect(spoofed).toEqual(base);
      expect(JSON.stringify(spoofed)).not.toContain("evil.example");
    }
    const rp = await createOidcClient(plain.deps, { redirect_uris: ["https://rp.example/cb"] });
    const query = new URLSearchParams({ client_id: rp.client_id, redirect_uri: "https://rp.example/cb", response_type: "code", scope: "openid", state: "s", nonce: "n", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" });
    const cookieAttrs = async (headers: Record<string, string>) => {
      const r = await fetch(`${plain.url}/oauth/authorize?${query}`, { headers, redirect: "manual" });
      await r.arrayBuffer();
      expect(r.status).toBe(303);
      return r.headers.getSetCookie().map((c) => c.split(";").slice(1).map((x) => x.trim()).sort().join(";"));
    };
    const normal = await cookieAttrs({});
    expect(normal.length).toBeGreaterThan(0);
    expect(await cookieAttrs({ "x-forwarded-proto": "https" })).toEqual(normal);
  });
});

/** A failed password grant of the first-party CLI client (audited with the client address). */
async function failLogin(base: string, xff: string, username: string): Promise<void> {
  const r = await fetch(base + "/oauth/token", {
    method: "POST",
    headers: { ...FORM, "x-forwarded-for": xff },
    body: new URLSearchParams({ grant_type: "password", client_id: "authly-cli", username, password: "wrong-password", scope: "admin:system:read" }).toString(),
  });
  expect([400, 401]).toContain(r.status);
}
