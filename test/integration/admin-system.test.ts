// Admin API: status, signing keys, and the OpenAPI document + offline docs page that must list
// every admin route with its request and response schemas.
import { describe, expect, test } from "bun:test";
import { buildOpenApi } from "../../src/admin/openapi";
import { adminRouteSpecs } from "../../src/admin/routes";
import { createApp } from "../../src/app";
import { VERSION } from "../../src/version";
import { auditRows, startAdminApi, tokenFor } from "../support/admin";
import { baseDatabaseUrl } from "../support/db";

const a = await startAdminApi();

describe("GET /admin/status", () => {
  test("reports version, uptime, database and pool, counts and admin API settings", async () => {
    const before = (await a.call("GET", "/admin/status")).body;
    expect(before).toMatchObject({
      status: "healthy",
      version: VERSION,
      mode: { name: "testing", pool: { min: 1, max: 5 } },
      database: { status: "connected", pool: { max: 5 } },
      admin_api: { enabled: true, localhost_only: true, rate_limit_per_minute: 100000, url: "http://localhost:8000" },
    });
    expect(before.uptime_seconds).toBeGreaterThanOrEqual(0);
    // This request's own pool holds at least one open connection right now (pg_stat_activity:
    // PostgreSQL only; the embedded PGlite engine has no such view of its single session).
    if ((await baseDatabaseUrl()).engine === "postgres") {
      expect(before.database.connections.open).toBeGreaterThanOrEqual(1);
      expect(before.database.connections.active).toBeGreaterThanOrEqual(1);
    }
    expect(Date.parse(before.timestamp)).not.toBeNaN();
    expect(before.counts.scopes).toBe(14);
    expect(before.counts.active_tokens).toBeGreaterThanOrEqual(1);
    await a.call("POST", "/admin/clients", { body: { client_name: "counted", client_type: "public", redirect_uris: ["https://c.example/cb"] } });
    await a.call("POST", "/admin/scopes", { body: { name: "counted", description: "x" } });
    await a.call("POST", "/admin/users", { body: { username: "counted", password: "long enough pw" } });
    const after = (await a.call("GET", "/admin/status")).body;
    expect(after.counts.clients).toBe(before.counts.clients + 1);
    expect(after.counts.active_clients).toBe(before.counts.active_clients + 1);
    expect(after.counts.scopes).toBe(15);
    expect(after.counts.users).toBe(before.counts.users + 1);
    expect(after.counts.active_users).toBe(before.counts.active_users + 1);
  });
});

describe("signing keys", () => {
  test("GET /admin/keys lists public facts only", async () => {
    const r = await a.call("GET", "/admin/keys");
    expect(r.status).toBe(200);
    const algs = r.body.keys.map((k: { alg: string }) => k.alg);
    expect(algs).toEqual(expect.arrayContaining(["RS256", "ES256"]));
    for (const k of r.body.keys) expect(Object.keys(k).sort()).toEqual(["activated_at", "alg", "created_at", "kid", "publish_until", "retired_at", "state"]);
    expect(JSON.stringify(r.body)).not.toContain("private");
  });

  test("POST /admin/keys/rotate promotes the published next key and keeps old tokens valid", async () => {
    const keys = (await a.call("GET", "/admin/keys")).body.keys as { kid: string; alg: string; state: string }[];
    const next = keys.find((k) => k.alg === "ES256" && k.state === "next")!.kid;
    const active = keys.find((k) => k.alg === "ES256" && k.state === "active")!.kid;
    const r = await a.call("POST", "/admin/keys/rotate", { body: { alg: "ES256" } });
    expect(r.status).toBe(200);
    expect(r.body.rotated).toEqual([{ alg: "ES256", activated: next, next: expect.any(String), retired: [active] }]);
    const after = (await a.call("GET", "/admin/keys")).body.keys as { kid: string; state: string; publish_until: string | null }[];
    expect(after.find((k) => k.kid === active)!.state).toBe("retired");
    expect(Date.parse(after.find((k) => k.kid === active)!.publish_until!)).toBeGreaterThan(Date.now());
    // The token in use was signed by the retired key and still works.
    expect((await a.call("GET", "/admin/keys")).status).toBe(200);
    // The retired key stays published for verifiers (RFC 7517 JWKS served by the token service).
    expect((await a.deps.keys.jwks()).keys.map((k) => k.kid)).toContain(active);
    const [audit] = await auditRows(a.deps, "key.rotate");
    expect(audit).toMatchObject({ actor: a.admin.id, target_type: "signing_key", target_id: next, details: { alg: "ES256" } });
  });

  test("without alg every algorithm in use rotates; 400 for an unknown alg; 403 with the read scope", async () => {
    const inUse = [...new Set((await a.call("GET", "/admin/keys")).body.keys.filter((k: { state: string }) => k.state === "active").map((k: { alg: string }) => k.alg))].sort();
    expect(inUse).toEqual(expect.arrayContaining(["ES256", "RS256"]));
    const r = await a.call("POST", "/admin/keys/rotate");
    expect(r.body.rotated.map((x: { alg: string }) => x.alg).sort()).toEqual(inUse);
    const bad = await a.call("POST", "/admin/keys/rotate", { body: { alg: "HS256" } });
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0].field).toBe("alg");
    const token = await tokenFor(a.deps, a.admin, "admin:system:read");
    expect((await a.call("POST", "/admin/keys/rotate", { token, body: {} })).status).toBe(403);
    expect((await a.call("GET", "/admin/keys", { token })).status).toBe(200);
  });
});

describe("GET /admin/audit", () => {
  test("lists audit events newest first, filtered by action, without secrets", async () => {
    const created = await a.call("POST", "/admin/clients", { body: { client_name: "audited", client_type: "confidential", redirect_uris: ["https://c.example/cb"] } });
    const r = await a.call("GET", "/admin/audit?action=client.create&limit=1");
    expect(r.status).toBe(200);
    expect(r.body.events).toHaveLength(1);
    expect(r.body.events[0]).toMatchObject({ action: "client.create", actor: a.admin.id, target_type: "client", target_id: created.body.client_id, outcome: "success", source_ip: "127.0.0.1" });
    expect(JSON.stringify(r.body)).not.toContain(created.body.client_secret);
    const all = await a.call("GET", "/admin/audit?limit=100");
    const ids = all.body.events.map((e: { id: string }) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => y - x));
    expect((await a.call("GET", "/admin/audit?limit=500")).status).toBe(400);
    expect((await a.call("GET", "/admin/audit", { token: await tokenFor(a.deps, a.admin, "admin:clients:read") })).status).toBe(403);
  });
});

describe("OpenAPI document and docs page", () => {
  test("every admin route is in the document with its request and response schemas", async () => {
    const r = await a.call("GET", "/admin/openapi.json", { token: null });
    expect(r.status).toBe(200);
    const doc = r.body;
    expect(doc.openapi).toBe("3.1.0");
    const routes = createApp(a.deps).routes.filter((x) => x.path.startsWith("/admin/") && !["/admin/openapi.json", "/admin/docs"].includes(x.path) && !x.path.startsWith("/admin/docs/"));
    expect(routes.length).toBeGreaterThanOrEqual(28);
    for (const route of routes) {
      const path = route.path.replace(/:([A-Za-z_]+)/g, "{$1}");
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      const ok = Object.entries(op.responses).find(([s]) => s.startsWith("2")) as [string, { content: { "application/json": { schema: { type?: string; allOf?: unknown } } } }];
      expect(ok[1].content["application/json"].schema.type ?? ok[1].content["application/json"].schema.allOf, `${route.method} ${route.path} response`).toBeDefined();
      if ((route.method === "POST" || route.method === "PATCH") && !route.path.endsWith("/deactivate")) {
        expect(op.requestBody?.content["application/json"].schema.type, `${route.method} ${route.path} body`).toBe("object");
      }
      if (path !== "/admin/health") {
        expect(op["x-required-scope"]).toMatch(path.startsWith("/admin/me") ? /^any$/ : /^admin:(clients|scopes|users|system):(read|write)$/);
        expect(op.responses["401"]).toBeDefined();
        expect(op.responses["403"]).toBeDefined();
      }
      expect(op.responses["429"]).toBeDefined();
      for (const name of [...route.path.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1])) {
        expect(op.parameters.some((p: { name: string; in: string }) => p.name === name && p.in === "path")).toBe(true);
      }
    }
    expect(doc.paths["/admin/clients"].post.requestBody.content["application/json"].schema.required).toEqual(["client_name", "client_type", "redirect_uris"]);
    expect(doc.paths["/admin/clients"].get.parameters.map((p: { name: string }) => p.name)).toEqual(["limit", "offset", "include_inactive"]);
    expect(doc.components.schemas.Error.required).toEqual(["error", "error_description"]);
  });

  test("the served document is exactly the one built from the admin route specs: the plugin adds no route of its own scan", async () => {
    const r = await a.call("GET", "/admin/openapi.json", { token: null });
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.body).toEqual(JSON.parse(JSON.stringify(buildOpenApi(adminRouteSpecs(a.deps), a.deps.config.issuer))));
    expect(Object.keys(r.body.paths).every((p: string) => p.startsWith("/admin/"))).toBe(true);
  });

  test("the docs page is Swagger UI served from our own files: its CSP allows same-origin assets and only its own inline script, by hash", async () => {
    const r = await fetch(`${a.url}/admin/docs`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/html");
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    const csp = r.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).not.toMatch(/https?:/);
    const html = await r.text();
    // Every script and stylesheet is same-origin; the one inline script is the one the CSP hashes.
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.sort()).toEqual(["/admin/docs/swagger-ui-bundle.js", "/admin/docs/swagger-ui.css"]);
    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(inline).toHaveLength(1);
    expect(inline[0]).toContain('"url":"/admin/openapi.json"');
    const hash = new Bun.CryptoHasher("sha256").update(inline[0]!).digest("base64");
    expect(csp.match(/script-src ([^;]+)/)![1]!.split(" ").sort()).toEqual([`'self'`, `'sha256-${hash}'`].sort());
    for (const [path, type] of [["/admin/docs/swagger-ui-bundle.js", "text/javascript"], ["/admin/docs/swagger-ui.css", "text/css"]] as const) {
      const asset = await fetch(`${a.url}${path}`);
      expect(asset.status, path).toBe(200);
      expect(asset.headers.get("content-type")).toContain(type);
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    }
  });
});
