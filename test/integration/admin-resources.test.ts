// Admin API: API resources (RFC 8707 identifiers, RFC 9728 metadata): identifier rules, scopes
// unique per resource, the resource server's credentials (a confidential client record, secret
// shown once), clients allowed resources, soft and hard delete, creation from protected resource
// metadata fetched under the outbound rules.
import { afterAll, describe, expect, test } from "bun:test";
import { auditRows, startAdminApi } from "../support/admin";

const a = await startAdminApi();
const enc = (id: string) => `/admin/resources/${encodeURIComponent(id)}`;

describe("POST /admin/resources", () => {
  test("creates a resource with its scopes and credentials; the secret is shown once", async () => {
    const r = await a.call("POST", "/admin/resources", {
      body: { identifier: "https://api.example.com/v1", name: "Orders API", scopes: [{ name: "orders:read", description: "Read orders" }, { name: "orders:write" }], access_token_ttl: 600, access_token_alg: "EdDSA" },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ identifier: "https://api.example.com/v1", name: "Orders API", access_token_ttl: 600, access_token_alg: "EdDSA", may_introspect: true, allow_any_client: false, is_active: true });
    expect(r.body.scopes).toEqual([{ name: "orders:read", description: "Read orders" }, { name: "orders:write", description: "" }]);
    expect(r.body.client_secret).toMatch(/^cs_/);
    const creds = await a.call("GET", `/admin/clients/${r.body.client_id}`);
    expect(creds.body).toMatchObject({ client_type: "confidential", grant_types: [], redirect_uris: [], response_types: [] });
    const shown = await a.call("GET", enc("https://api.example.com/v1"));
    expect(shown.status).toBe(200);
    expect(shown.body.client_secret).toBeUndefined();
    expect((await auditRows(a.deps, "resource.create"))[0]).toMatchObject({ target_type: "resource", target_id: "https://api.example.com/v1" });
  });

  test("refuses an identifier that is relative, has a fragment or a query (RFC 8707 §2)", async () => {
    for (const identifier of ["/relative/api", "api.example.com", "https://api.example.com/#frag", "https://api.example.com/?q=1"]) {
      const r = await a.call("POST", "/admin/resources", { body: { identifier, name: "Bad" } });
      expect(r.status).toBe(400);
      expect(r.body.fields.map((f: { field: string }) => f.field)).toContain("identifier");
    }
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM clients WHERE client_name = 'Resource server: Bad'`)[0]!.n).toBe(0);
  });

  test("scope names are unique within a resource; another resource may reuse them", async () => {
    const dup = await a.call("POST", "/admin/resources", { body: { identifier: "https://dup.example.com", name: "Dup", scopes: [{ name: "read" }, { name: "read" }] } });
    expect(dup.status).toBe(400);
    expect(dup.body.fields[0].field).toBe("scopes[1].name");
    const one = await a.call("POST", "/admin/resources", { body: { identifier: "https://one.example.com", name: "One", scopes: [{ name: "read" }] } });
    const two = await a.call("POST", "/admin/resources", { body: { identifier: "https://two.example.com", name: "Two", scopes: [{ name: "read" }] } });
    expect([one.status, two.status]).toEqual([201, 201]);
  });

  test("a second resource with the same identifier is a conflict, and nothing is half-written", async () => {
    const before = (await a.deps.sql`SELECT count(*)::int AS n FROM clients`)[0]!.n;
    const r = await a.call("POST", "/admin/resources", { body: { identifier: "https://one.example.com", name: "Again" } });
    expect(r.status).toBe(409);
    expect((await a.deps.sql`SELECT count(*)::int AS n FROM clients`)[0]!.n).toBe(before);
  });

  test("private_key_jwt credentials need jwks or jwks_uri, checked by the client validator", async () => {
    const r = await a.call("POST", "/admin/resources", { body: { identifier: "https://pkj.example.com", name: "PKJ", token_endpoint_auth_method: "private_key_jwt" } });
    expect(r.status).toBe(400);
    expect(r.body.fields.map((f: { field: string }) => f.field)).toContain("jwks");
    const ssrf = await a.call("POST", "/admin/resources", { body: { identifier: "https://pkj.example.com", name: "PKJ", token_endpoint_auth_method: "private_key_jwt", jwks_uri: "https://10.0.0.1/jwks" } });
    expect(ssrf.status).toBe(400);
    expect(ssrf.body.fields.map((f: { field: string }) => f.field)).toContain("jwks_uri");
  });
});

describe("clients and resources", () => {
  test("a client is allowed registered resources only, and its default is one of them", async () => {
    const c = await a.call("POST", "/admin/clients", { body: { client_name: "App", client_type: "confidential", redirect_uris: ["https://app.example/cb"] } });
    const ok = await a.call("PATCH", `/admin/clients/${c.body.client_id}`, { body: { resources: ["https://one.example.com"], default_resource: "https://one.example.com" } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ resources: ["https://one.example.com"], default_resource: "https://one.example.com" });
    const unknown = await a.call("PATCH", `/admin/clients/${c.body.client_id}`, { body: { resources: ["https://nowhere.example.com"] } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.fields[0].field).toBe("resources");
    const badDefault = await a.call("PATCH", `/admin/clients/${c.body.client_id}`, { body: { default_resource: "https://two.example.com" } });
    expect(badDefault.status).toBe(400);
    expect(badDefault.body.fields[0].field).toBe("default_resource");
    const frag = await a.call("PATCH", `/admin/clients/${c.body.client_id}`, { body: { resources: ["https://one.example.com#x"] } });
    expect(frag.status).toBe(400);
    expect(frag.body.fields[0].field).toBe("resources[0]");
  });

  test("a hard delete removes the resource from every client; a soft delete deactivates it and its credentials", async () => {
    const res = await a.call("POST", "/admin/resources", { body: { identifier: "urn:example:gone", name: "Gone" } });
    const c = await a.call("POST", "/admin/clients", { body: { client_name: "App2", client_type: "confidential", redirect_uris: ["https://app.example/cb"], resources: ["urn:example:gone"], default_resource: "urn:example:gone" } });
    expect(c.status).toBe(201);
    const soft = await a.call("DELETE", enc("urn:example:gone"));
    expect(soft.body).toEqual({ identifier: "urn:example:gone", deleted: "soft" });
    expect((await a.call("GET", enc("urn:example:gone"))).body.is_active).toBe(false);
    expect((await a.call("GET", `/admin/clients/${res.body.client_id}`)).body.is_active).toBe(false);
    const hard = await a.call("DELETE", `${enc("urn:example:gone")}?hard=true`);
    expect(hard.body.deleted).toBe("hard");
    expect((await a.call("GET", enc("urn:example:gone"))).status).toBe(404);
    expect((await a.call("GET", `/admin/clients/${c.body.client_id}`)).body).toMatchObject({ resources: [], default_resource: null });
  });

  test("update changes name, scopes and flags; list hides inactive ones unless asked", async () => {
    const r = await a.call("PATCH", enc("https://two.example.com"), { body: { name: "Two v2", scopes: [{ name: "write" }], may_introspect: false, allow_any_client: true, access_token_alg: null, is_active: false } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "Two v2", scopes: [{ name: "write", description: "" }], may_introspect: false, allow_any_client: true, is_active: false });
    const list = await a.call("GET", "/admin/resources");
    expect(list.body.resources.map((x: { identifier: string }) => x.identifier)).not.toContain("https://two.example.com");
    const all = await a.call("GET", "/admin/resources?include_inactive=true");
    expect(all.body.resources.map((x: { identifier: string }) => x.identifier)).toContain("https://two.example.com");
    expect((await a.call("PATCH", enc("https://nope.example.com"), { body: { name: "x" } })).status).toBe(404);
  });
});

describe("POST /admin/resources/from-metadata (RFC 9728)", () => {
  // A resource server on loopback publishing its metadata (loopback is allowed in dev mode only).
  const rs: ReturnType<typeof Bun.serve> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req): Response {
      const u = new URL(req.url);
      const self: string = `http://127.0.0.1:${rs.port}`;
      if (u.pathname === "/.well-known/oauth-protected-resource/mcp") return Response.json({ resource: `${self}/mcp`, resource_name: "Notes MCP", scopes_supported: ["notes:read", "notes:write"], authorization_servers: [a.url] });
      if (u.pathname === "/.well-known/oauth-protected-resource/liar") return Response.json({ resource: "https://elsewhere.example.com/" });
      return new Response("not found", { status: 404 });
    },
  });
  afterAll(() => rs.stop(true));

  test("registers the resource the document names, with its name and scopes", async () => {
    const identifier = `http://127.0.0.1:${rs.port}/mcp`;
    const r = await a.call("POST", "/admin/resources/from-metadata", { body: { url: identifier } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ identifier, name: "Notes MCP", scopes: [{ name: "notes:read", description: "" }, { name: "notes:write", description: "" }] });
  });

  test("refuses a document whose resource is not the one its URL was built from (RFC 9728 §3.3)", async () => {
    const r = await a.call("POST", "/admin/resources/from-metadata", { body: { url: `http://127.0.0.1:${rs.port}/.well-known/oauth-protected-resource/liar` } });
    expect(r.status).toBe(400);
    expect(r.body.fields[0].field).toBe("url");
    expect(r.body.error_description).toContain("RFC 9728 §3.3");
  });

  test("refuses a private address by the outbound rules", async () => {
    const r = await a.call("POST", "/admin/resources/from-metadata", { body: { url: "https://10.1.2.3/api" } });
    expect(r.status).toBe(400);
    expect(r.body.error_description).toContain("refused");
  });
});
