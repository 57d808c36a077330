// Outbound requests of the server (SECURITY.md "Outbound requests"): a client's jwks_uri is read
// under a size and time cap, a failing one is fetched once per cooldown, redirects are never
// followed, and private, loopback and link-local destinations are refused (loopback allowed in
// development mode only), at registration and again after DNS resolution at fetch time.
import { afterAll, describe, expect, test } from "bun:test";
import { auditRows, startAdminApi, type AdminApi } from "../support/admin";
import { Browser } from "../support/browser";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { signIn } from "../support/oidc-flow";
import { settleBackgroundLogouts } from "../../src/oidc/backchannel-logout";
import { assertionKey, createClient, post } from "../support/fixtures";
import { JWKS_MAX_BYTES, JWKS_FAILURE_COOLDOWN_MS } from "../../src/oauth/client-keys";
import { safeFetch } from "../../src/lib/outbound";

const dev: AdminApi = await startAdminApi();
const prod: AdminApi = await startAdminApi({ AUTHLY_MODE: "production", AUTHLY_DEV_MODE: "false" });
const key = await assertionKey("ES256");

interface Hit {
  path: string;
  host: string | null;
}
const hits: Hit[] = [];
/** Bytes the huge document handed to the socket before the reader went away. */
let hugeSent = 0;
const HUGE_BYTES = 50 * 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024).fill(0x20);

const rp = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req): Response | Promise<Response> {
    const path = new URL(req.url).pathname;
    hits.push({ path, host: req.headers.get("host") });
    if (path === "/jwks") return Response.json(key.jwks);
    if (path === "/bcl") return new Response(null, { status: 200 });
    if (path === "/silent") return new Promise<Response>(() => {}); // never answers
    if (path === "/drip") {
      // Headers and the first bytes at once, then nothing more.
      const body = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode('{"keys":[')), pull: () => new Promise<void>(() => {}) });
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    if (path === "/broken") return new Response("down", { status: 500 });
    if (path === "/redirect") return Response.redirect(`http://127.0.0.1:${rp.port}/jwks`, 302);
    if (path === "/declared-huge") return new Response(new Uint8Array(JWKS_MAX_BYTES + 1).fill(0x20), { headers: { "content-type": "application/json" } });
    if (path === "/huge") {
      hugeSent = 0;
      // A JSON document that never ends within 50 MB, streamed without a Content-Length.
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"keys":['));
        },
        pull(c) {
          if (hugeSent >= HUGE_BYTES) return c.close();
          hugeSent += CHUNK.byteLength;
          c.enqueue(CHUNK);
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    }
    return new Response("not found", { status: 404 });
  },
});
afterAll(() => rp.stop(true));
const at = (path: string, host = "127.0.0.1") => `http://${host}:${rp.port}${path}`;
const count = (path: string) => hits.filter((h) => h.path === path).length;

async function assertWith(api: AdminApi, clientId: string) {
  const r = await fetch(`${api.url}/oauth/token`, post({ grant_type: "client_credentials", client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", client_assertion: await key.sign(clientId, `${api.url}/oauth/token`) }));
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function jwksClient(api: AdminApi, jwksUri: string): Promise<string> {
  const id = `svc-${crypto.randomUUID().slice(0, 8)}`;
  await createClient(api.deps, { client_id: id, token_endpoint_auth_method: "private_key_jwt", jwks_uri: jwksUri, grant_types: ["client_credentials"], scopes: ["api:read"] });
  return id;
}

describe("jwks_uri: size, time and failure caps", () => {
  test(`a jwks_uri document past ${JWKS_MAX_BYTES} bytes is refused (invalid_client) and its reading stops there`, async () => {
    const id = await jwksClient(dev, at("/huge"));
    const r = await assertWith(dev, id);
    expect(r.status).toBe(401);
    expect(r.body.error).toBe("invalid_client");
    // The server aborted the connection past the cap: the sender stopped long before 50 MB (what
    // it handed over beyond the cap sits in loopback socket buffers, never read by the server).
    expect(hugeSent).toBeLessThan(HUGE_BYTES / 5);
  });

  test("a document that declares a Content-Length past the cap is refused without reading it", async () => {
    const id = await jwksClient(dev, at("/declared-huge"));
    const r = await assertWith(dev, id);
    expect(r.body.error).toBe("invalid_client");
  });

  test(`a failing jwks_uri is fetched once per ${JWKS_FAILURE_COOLDOWN_MS / 1000} s cooldown, however many token requests name it`, async () => {
    const id = await jwksClient(dev, at("/broken"));
    const before = count("/broken");
    for (let i = 0; i < 6; i++) {
      const r = await assertWith(dev, id);
      expect(r.body.error).toBe("invalid_client");
    }
    expect(count("/broken") - before).toBe(1);
  });

  test("the time cap covers waiting for the answer and for the rest of the body", async () => {
    const limits = { allowLoopback: true, maxBytes: 1024, timeoutMs: 300 };
    await expect(safeFetch(at("/silent"), {}, limits)).rejects.toMatchObject({ code: "timeout" });
    await expect(safeFetch(at("/drip"), {}, limits)).rejects.toMatchObject({ code: "timeout" });
  });

  test("a redirect from the jwks_uri is not followed", async () => {
    const id = await jwksClient(dev, at("/redirect"));
    const before = count("/jwks");
    const r = await assertWith(dev, id);
    expect(r.body.error).toBe("invalid_client");
    expect(count("/jwks")).toBe(before);
  });

  test("a named host is connected to at its checked address with its own Host header", async () => {
    const id = await jwksClient(dev, at("/jwks", "localhost"));
    const r = await assertWith(dev, id);
    expect(r.status).toBe(200);
    expect(hits.findLast((h) => h.path === "/jwks")?.host).toBe(`localhost:${rp.port}`);
  });
});

describe("outbound destinations in production mode", () => {
  test("a jwks_uri on loopback (by address or by a name resolving there) is never fetched: invalid_client", async () => {
    for (const host of ["127.0.0.1", "localhost"]) {
      const id = await jwksClient(prod, at("/jwks", host));
      const before = count("/jwks");
      const r = await assertWith(prod, id);
      expect(r.status).toBe(401);
      expect(r.body.error).toBe("invalid_client");
      expect(count("/jwks")).toBe(before);
    }
  });

  test("safeFetch refuses loopback unless allowed, before any connection", async () => {
    const before = hits.length;
    await expect(safeFetch(at("/jwks"), {}, { allowLoopback: false, maxBytes: 1024, timeoutMs: 5000 })).rejects.toMatchObject({ code: "refused_destination" });
    await expect(safeFetch(at("/jwks", "localhost"), {}, { allowLoopback: false, maxBytes: 1024, timeoutMs: 5000 })).rejects.toMatchObject({ code: "refused_destination" });
    expect(hits.length).toBe(before);
    const ok = await safeFetch(at("/jwks"), {}, { allowLoopback: true, maxBytes: 1024, timeoutMs: 5000 });
    expect(ok.status).toBe(200);
  });

  test("a back-channel logout receiver on loopback gets nothing; the delivery is audited as failed", async () => {
    const client = await createOidcClient(prod.deps, { require_consent: false, backchannel_logout_uri: at("/bcl") });
    const user = await createOidcUser(prod.deps);
    await signIn(Browser.forServer(prod.url), client, user);
    const ended = await prod.call("DELETE", `/admin/users/${user.id}/sessions`);
    expect(ended.body.revoked_sessions).toBe(1);
    await settleBackgroundLogouts();
    expect(count("/bcl")).toBe(0);
    const [row] = (await auditRows(prod.deps, "logout.backchannel")).filter((r) => r.target_id === client.client_id);
    expect(row?.outcome).toBe("failure");
  });

  const base = { client_name: "RP", client_type: "confidential", redirect_uris: ["https://rp.example.com/cb"] };
  test("registration refuses private, loopback and link-local jwks_uri and backchannel_logout_uri: 400 validation_error naming the field", async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://10.0.0.8/jwks" }, "jwks_uri", /private address/],
      [{ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://169.254.169.254/latest/meta-data" }, "jwks_uri", /link-local/],
      [{ token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://[::ffff:192.168.1.1]/jwks" }, "jwks_uri", /private address/],
      [{ backchannel_logout_uri: "http://127.0.0.1:8080/bcl" }, "backchannel_logout_uri", /loopback/],
      [{ backchannel_logout_uri: "http://localhost:8080/bcl" }, "backchannel_logout_uri", /localhost/],
      [{ backchannel_logout_uri: "https://[fd00::1]/bcl" }, "backchannel_logout_uri", /unique local/],
    ];
    for (const [extra, field, message] of cases) {
      const r = await prod.call("POST", "/admin/clients", { body: { ...base, ...extra } });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("validation_error");
      const problem = r.body.fields.find((p: { field: string }) => p.field === field);
      expect(problem?.message).toMatch(message);
    }
    const c = await prod.call("POST", "/admin/clients", { body: { ...base, backchannel_logout_uri: "https://rp.example.com/bcl" } });
    expect(c.status).toBe(201);
    const u = await prod.call("PATCH", `/admin/clients/${c.body.client_id}`, { body: { backchannel_logout_uri: "http://[::1]:9000/bcl" } });
    expect(u.status).toBe(400);
    expect(u.body.error).toBe("validation_error");
  });

  test("development mode registers loopback receivers but still refuses private ones", async () => {
    expect((await dev.call("POST", "/admin/clients", { body: { ...base, backchannel_logout_uri: "http://127.0.0.1:8080/bcl" } })).status).toBe(201);
    expect((await dev.call("POST", "/admin/clients", { body: { ...base, backchannel_logout_uri: "https://192.168.0.10/bcl" } })).status).toBe(400);
  });
});
