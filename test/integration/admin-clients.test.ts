// Admin API: OAuth clients. Secret shown once and stored only as its HMAC, redirect URI rules,
// validation naming every bad field, pagination, soft vs hard delete, secret rotation with grace.
import { describe, expect, test } from "bun:test";
import { hashClientSecret, verifyClientSecret } from "../../src/clients/secrets";
import { findClientByClientId } from "../../src/clients/store";
import { auditRows, startAdminApi } from "../support/admin";

const a = await startAdminApi();
const web = { client_name: "Web app", client_type: "confidential", redirect_uris: ["https://app.example/cb"], scope: "openid profile" };

async function rawRow(clientId: string) {
  const [row] = await a.deps.sql`SELECT * FROM clients WHERE client_id = ${clientId}`;
  return row as Record<string, unknown> | undefined;
}

describe("POST /admin/clients", () => {
  test("a confidential client gets a 256-bit secret once; only its HMAC is stored", async () => {
    const r = await a.call("POST", "/admin/clients", { body: { ...web, contacts: ["ops@app.example"], client_uri: "https://app.example" } });
    expect(r.status).toBe(201);
    const secret: string = r.body.client_secret;
    expect(secret).toMatch(/^cs_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(secret.slice(3), "base64url").length).toBe(32);
    expect(r.body).toMatchObject({ client_name: "Web app", client_type: "confidential", token_endpoint_auth_method: "client_secret_basic", scope: "openid profile", grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], is_active: true, has_secret: true, contacts: ["ops@app.example"] });
    expect(r.body.client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers.get("cache-control")).toBe("no-store");

    const row = (await rawRow(r.body.client_id))!;
    expect(row.secret_hash).toBe(hashClientSecret(a.deps, secret));
    expect(JSON.stringify(row)).not.toContain(secret.slice(3));

    // Never again: show and list leave it out.
    const shown = await a.call("GET", `/admin/clients/${r.body.client_id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.client_secret).toBeUndefined();
    expect(JSON.stringify(shown.body)).not.toContain(secret);
    const list = await a.call("GET", "/admin/clients?limit=100");
    expect(JSON.stringify(list.body)).not.toContain(secret);

    const [audit] = await auditRows(a.deps, "client.create");
    expect(audit).toMatchObject({ actor: a.admin.id, target_type: "client", target_id: r.body.client_id, source_ip: "127.0.0.1" });
    expect(JSON.stringify(audit)).not.toContain(secret);
  });

  test("a public client gets no secret and authenticates with none", async () => {
    const r = await a.call("POST", "/admin/clients", { body: { client_name: "SPA", client_type: "public", redirect_uris: ["http://localhost:3000/callback", "com.example.app:/oauth2redirect", "http://127.0.0.1:8123/cb", "http://[::1]:9000/cb"] } });
    expect(r.status).toBe(201);
    expect(r.body.client_secret).toBeUndefined();
    expect(r.body).toMatchObject({ token_endpoint_auth_method: "none", has_secret: false, scope: "" });
    expect((await rawRow(r.body.client_id))!.secret_hash).toBeNull();
  });

  test("400 names every bad redirect URI and unknown scope (RFC 6749 §3.1.2, OAuth 2.1 §2.3.1)", async () => {
    const r = await a.call("POST", "/admin/clients", {
      body: { ...web, redirect_uris: ["https://ok.example/cb", "http://app.example/cb", "https://app.example/cb#frag", "/relative", "javascript:alert(1)", "https://ok.example/cb"], scope: "openid no-such-scope", contacts: ["not-an-email"], logo_uri: "ftp://x.example/logo.png" },
    });
    expect(r.status).toBe(400);
    expect(r.body.error).toBe("validation_error");
    const fields = r.body.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(["redirect_uris[1]", "redirect_uris[2]", "redirect_uris[3]", "redirect_uris[4]", "redirect_uris[5]", "scope", "contacts[0]", "logo_uri"]));
    expect(fields).not.toContain("redirect_uris[0]");
    expect(r.body.fields.find((f: { field: string }) => f.field === "redirect_uris[1]").message).toContain("loopback");
    expect(r.body.fields.find((f: { field: string }) => f.field === "scope").message).toContain("no-such-scope");
  });

  test("400 (not Elysia's 422) for missing, mistyped and unknown fields, all named", async () => {
    const r = await a.call("POST", "/admin/clients", { body: { client_type: "secret", redirect_uris: "https://x.example/cb", post_logout_redirect_uris: ["http://x.example/"], colour: "blue" } });
    expect(r.status).toBe(400);
    expect(r.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["client_name", "client_type", "colour", "post_logout_redirect_uris[0]", "redirect_uris"]);
    expect(r.body.fields.find((f: { field: string }) => f.field === "client_type").message).toBe("must be one of: public, confidential");
  });

  test("400 for a body that is not JSON, with no client written", async () => {
    const before = (await a.deps.sql`SELECT count(*)::int AS n FROM clients`)[0]!.n;
    const r = await a.call("POST", "/admin/clients", { raw: "{oops", headers: { "content-type": "application/json" } });
    expect(r.status).toBe(400);
    expect(r.body.fields).toEqual([{ field: "body", message: "must be a JSON object" }]);
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM clients`)[0]!.n).toBe(before);
  });

  test("auth method and grant types must fit the client type", async () => {
    const pub = await a.call("POST", "/admin/clients", { body: { client_name: "p", client_type: "public", redirect_uris: ["https://p.example/cb"], token_endpoint_auth_method: "client_secret_basic", grant_types: ["client_credentials"] } });
    expect(pub.status).toBe(400);
    expect(pub.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["grant_types", "token_endpoint_auth_method"]);
    const conf = await a.call("POST", "/admin/clients", { body: { ...web, token_endpoint_auth_method: "none" } });
    expect(conf.status).toBe(400);
    const noRedirect = await a.call("POST", "/admin/clients", { body: { ...web, redirect_uris: [] } });
    expect(noRedirect.body.fields).toEqual([{ field: "redirect_uris", message: "at least one redirect URI is needed for the authorization_code grant" }]);
    const service = await a.call("POST", "/admin/clients", { body: { client_name: "svc", client_type: "confidential", redirect_uris: [], grant_types: ["client_credentials"] } });
    expect(service.status).toBe(201);
    expect(service.body.response_types).toEqual([]);
  });

  test("private_key_jwt needs a public JWKS and gets no secret", async () => {
    const missing = await a.call("POST", "/admin/clients", { body: { ...web, token_endpoint_auth_method: "private_key_jwt" } });
    expect(missing.status).toBe(400);
    expect(missing.body.fields[0].field).toBe("jwks");
    const priv = await a.call("POST", "/admin/clients", { body: { ...web, token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", d: "secret" }] } } });
    expect(priv.body.fields[0]).toEqual({ field: "jwks.keys[0]", message: "must be a public key (no private members)" });
    const ok = await a.call("POST", "/admin/clients", { body: { ...web, token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y" }] } } });
    expect(ok.status).toBe(201);
    expect(ok.body.client_secret).toBeUndefined();
    expect(ok.body.jwks.keys[0].kty).toBe("EC");
  });
});

describe("GET /admin/clients", () => {
  test("pages with limit/offset and hides inactive clients unless asked", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await a.call("POST", "/admin/clients", { body: { ...web, client_name: `page-${i}` } })).body.client_id);
    const all = await a.call("GET", "/admin/clients?limit=100");
    const total = all.body.total;
    expect(all.body.clients.length).toBe(total);
    const p1 = await a.call("GET", "/admin/clients?limit=2&offset=0");
    const p2 = await a.call("GET", "/admin/clients?limit=2&offset=2");
    expect(p1.body).toMatchObject({ total, limit: 2, offset: 0 });
    expect(p1.body.clients.length).toBe(2);
    expect(p2.body.offset).toBe(2);
    const seen = [...p1.body.clients, ...p2.body.clients].map((c: { client_id: string }) => c.client_id);
    expect(new Set(seen).size).toBe(seen.length);
    expect((await a.call("GET", `/admin/clients?limit=2&offset=${total}`)).body.clients).toEqual([]);

    await a.call("DELETE", `/admin/clients/${ids[0]}`);
    const active = await a.call("GET", "/admin/clients?limit=100");
    expect(active.body.total).toBe(total - 1);
    expect(active.body.clients.map((c: { client_id: string }) => c.client_id)).not.toContain(ids[0]);
    const withInactive = await a.call("GET", "/admin/clients?limit=100&include_inactive=true");
    expect(withInactive.body.total).toBe(total);
  });

  test("400 names each bad query parameter", async () => {
    const r = await a.call("GET", "/admin/clients?limit=0&offset=-1&include_inactive=maybe");
    expect(r.status).toBe(400);
    expect(r.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["include_inactive", "limit", "offset"]);
    expect((await a.call("GET", "/admin/clients?limit=101")).status).toBe(400);
  });

  test("404 for an unknown client_id", async () => {
    const r = await a.call("GET", "/admin/clients/does-not-exist");
    expect(r.status).toBe(404);
    expect(r.body.error).toBe("not_found");
  });
});

describe("PATCH /admin/clients/:client_id", () => {
  test("require_pushed_authorization_requests: off by default, set and cleared, a boolean only (RFC 9126 §6)", async () => {
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    expect(c.require_pushed_authorization_requests).toBe(false);
    const on = await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { require_pushed_authorization_requests: true } });
    expect(on.status).toBe(200);
    expect(on.body.require_pushed_authorization_requests).toBe(true);
    expect((await rawRow(c.client_id))!.require_pushed_authorization_requests).toBe(true);
    // A PATCH that does not name it keeps it.
    expect((await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { client_name: "Still PAR" } })).body.require_pushed_authorization_requests).toBe(true);
    const bad = await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { require_pushed_authorization_requests: "yes" } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("require_pushed_authorization_requests");
    expect((await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { require_pushed_authorization_requests: false } })).body.require_pushed_authorization_requests).toBe(false);
  });

  test("changes only the given fields and is audited", async () => {
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    const r = await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { client_name: "Renamed", redirect_uris: ["https://app.example/cb", "https://app.example/cb2"], logo_uri: "https://app.example/logo.png" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ client_name: "Renamed", redirect_uris: ["https://app.example/cb", "https://app.example/cb2"], logo_uri: "https://app.example/logo.png", scope: "openid profile" });
    expect(r.body.client_secret).toBeUndefined();
    expect((await findClientByClientId(a.deps.sql, c.client_id))!.client_name).toBe("Renamed");
    const [audit] = await auditRows(a.deps, "client.update");
    expect(audit!.target_id).toBe(c.client_id);
    expect(audit!.details.changed).toEqual(["client_name", "redirect_uris", "logo_uri"]);
  });

  test("400 for bad values, an unknown field or a changed client_type; 404 for unknown ids", async () => {
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    const r = await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { redirect_uris: ["http://evil.example/cb"], client_type: "public" } });
    expect(r.status).toBe(400);
    expect(r.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["client_type", "redirect_uris[0]"]);
    const r2 = await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { redirect_uris: ["http://evil.example/cb"] } });
    expect(r2.body.fields.map((f: { field: string }) => f.field)).toEqual(["redirect_uris[0]"]);
    expect((await findClientByClientId(a.deps.sql, c.client_id))!.redirect_uris).toEqual(["https://app.example/cb"]);
    expect((await a.call("PATCH", "/admin/clients/nope", { body: { client_name: "x" } })).status).toBe(404);
  });

  test("the built-in authly-cli client keeps its grant types (409); its scopes are still checked", async () => {
    const r = await a.call("PATCH", "/admin/clients/authly-cli", { body: { grant_types: ["authorization_code"] } });
    expect(r.status).toBe(409);
    expect(r.body.error).toBe("conflict");
    const bad = await a.call("PATCH", "/admin/clients/authly-cli", { body: { scope: "admin:clients:read unknown-scope" } });
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0].field).toBe("scope");
    const ok = await a.call("PATCH", "/admin/clients/authly-cli", { body: { client_name: "Admin CLI" } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ client_name: "Admin CLI", grant_types: ["password", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"], is_first_party: true });
  });

  test("switching to private_key_jwt drops the secret; switching back issues a new one once", async () => {
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    const toJwt = await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://app.example/jwks.json" } });
    expect(toJwt.status).toBe(200);
    expect(toJwt.body.has_secret).toBe(false);
    expect((await rawRow(c.client_id))!.secret_hash).toBeNull();
    const back = await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { token_endpoint_auth_method: "client_secret_post", jwks_uri: null } });
    expect(back.body.client_secret).toMatch(/^cs_/);
    expect((await rawRow(c.client_id))!.secret_hash).toBe(hashClientSecret(a.deps, back.body.client_secret));
    const public_ = await a.call("PATCH", `/admin/clients/${c.client_id}`, { body: { token_endpoint_auth_method: "none" } });
    expect(public_.status).toBe(400);
  });
});

describe("DELETE /admin/clients/:client_id", () => {
  async function withGrant(clientId: string) {
    const [g] = await a.deps.sql<{ id: string }[]>`INSERT INTO grants (client_id, grant_type, scope, expires_at) VALUES (${clientId}, 'client_credentials', '', now() + interval '1 hour') RETURNING id`;
    await a.deps.sql`INSERT INTO access_tokens (jti, grant_id, client_id, scope, expires_at) VALUES (${crypto.randomUUID()}, ${g!.id}, ${clientId}, '', now() + interval '1 hour')`;
    return g!.id;
  }

  test("soft delete deactivates and revokes the client's grants; the row stays", async () => {
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    const grant = await withGrant(c.client_id);
    const r = await a.call("DELETE", `/admin/clients/${c.client_id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ client_id: c.client_id, deleted: "soft" });
    const shown = await a.call("GET", `/admin/clients/${c.client_id}`);
    expect(shown.body.is_active).toBe(false);
    const [g] = await a.deps.sql`SELECT revoked_at, revoked_reason FROM grants WHERE id = ${grant}`;
    expect(g!.revoked_at).not.toBeNull();
    expect(g!.revoked_reason).toBe("client_deleted");
    const [audit] = await auditRows(a.deps, "client.delete");
    expect(audit).toMatchObject({ target_id: c.client_id, details: { hard: false } });
  });

  test("hard delete removes the client and what was issued to it", async () => {
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    await withGrant(c.client_id);
    const r = await a.call("DELETE", `/admin/clients/${c.client_id}?hard=true`);
    expect(r.body).toEqual({ client_id: c.client_id, deleted: "hard" });
    expect(await rawRow(c.client_id)).toBeUndefined();
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM grants WHERE client_id = ${c.client_id}`)[0]!.n).toBe(0);
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM access_tokens WHERE client_id = ${c.client_id}`)[0]!.n).toBe(0);
    expect((await a.call("GET", `/admin/clients/${c.client_id}`)).status).toBe(404);
    expect((await a.call("DELETE", `/admin/clients/${c.client_id}`)).status).toBe(404);
  });

  test("409 for the built-in CLI client; 400 for a bad hard flag", async () => {
    expect((await a.call("DELETE", "/admin/clients/authly-cli")).status).toBe(409);
    expect(await rawRow("authly-cli")).toBeDefined();
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    const r = await a.call("DELETE", `/admin/clients/${c.client_id}?hard=perhaps`);
    expect(r.status).toBe(400);
    expect(r.body.fields[0].field).toBe("hard");
  });
});

describe("POST /admin/clients/:client_id/regenerate-secret", () => {
  test("without grace the old secret stops working at once", async () => {
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    const r = await a.call("POST", `/admin/clients/${c.client_id}/regenerate-secret`);
    expect(r.status).toBe(200);
    expect(r.body.client_secret).not.toBe(c.client_secret);
    expect(r.body.previous_secret_expires_at).toBeNull();
    const row = (await findClientByClientId(a.deps.sql, c.client_id))!;
    expect(row.secret_hash).toBe(hashClientSecret(a.deps, r.body.client_secret));
    expect(verifyClientSecret(a.deps, row, r.body.client_secret)).toBe(true);
    expect(verifyClientSecret(a.deps, row, c.client_secret)).toBe(false);
    const [audit] = await auditRows(a.deps, "client.secret_regenerate");
    expect(audit).toMatchObject({ actor: a.admin.id, target_id: c.client_id, details: { grace_period_seconds: 0 } });
    expect(JSON.stringify(audit)).not.toContain(r.body.client_secret);
  });

  test("with a grace period both secrets work until it ends", async () => {
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    const r = await a.call("POST", `/admin/clients/${c.client_id}/regenerate-secret`, { body: { grace_period_seconds: 3600 } });
    const expires = Date.parse(r.body.previous_secret_expires_at);
    expect(expires).toBeGreaterThan(Date.now() + 3500_000);
    expect(expires).toBeLessThan(Date.now() + 3700_000);
    const row = (await findClientByClientId(a.deps.sql, c.client_id))!;
    expect(row.previous_secret_hash).toBe(hashClientSecret(a.deps, c.client_secret));
    expect(verifyClientSecret(a.deps, row, c.client_secret)).toBe(true);
    expect(verifyClientSecret(a.deps, row, r.body.client_secret)).toBe(true);
    expect((await a.call("GET", `/admin/clients/${c.client_id}`)).body.previous_secret_expires_at).toBe(r.body.previous_secret_expires_at);
  });

  test("400 for a bad grace period, 404 for an unknown client, 409 for a client without a secret", async () => {
    const c = (await a.call("POST", "/admin/clients", { body: web })).body;
    const bad = await a.call("POST", `/admin/clients/${c.client_id}/regenerate-secret`, { body: { grace_period_seconds: -5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.fields[0].field).toBe("grace_period_seconds");
    expect((await a.call("POST", "/admin/clients/nope/regenerate-secret")).status).toBe(404);
    const pub = (await a.call("POST", "/admin/clients", { body: { client_name: "p", client_type: "public", redirect_uris: ["https://p.example/cb"] } })).body;
    expect((await a.call("POST", `/admin/clients/${pub.client_id}/regenerate-secret`)).status).toBe(409);
  });
});
