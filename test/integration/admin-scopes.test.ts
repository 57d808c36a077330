// Admin API: scopes. RFC 6749 §3.3 names, system scopes that stay, soft vs hard delete, defaults.
import { describe, expect, test } from "bun:test";
import { auditRows, startAdminApi, tokenFor } from "../support/admin";

const a = await startAdminApi();

describe("scopes", () => {
  test("create, show and list a scope; audited", async () => {
    const r = await a.call("POST", "/admin/scopes", { body: { name: "api:read", description: "Read API resources" } });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: "api:read", description: "Read API resources", is_default: false, is_active: true, is_system: false });
    expect((await a.call("GET", "/admin/scopes/api:read")).body.name).toBe("api:read");
    const list = await a.call("GET", "/admin/scopes");
    expect(list.body.total).toBe(list.body.scopes.length);
    expect(list.body.scopes.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(["openid", "admin:users:write", "api:read"]));
    const [audit] = await auditRows(a.deps, "scope.create");
    expect(audit).toMatchObject({ actor: a.admin.id, target_type: "scope", target_id: "api:read" });
  });

  test("400 for names outside RFC 6749 §3.3 and for bad fields, all named", async () => {
    for (const name of ["has space", 'quo"te', "back\\slash", "", "x".repeat(129), "naïve"]) {
      const r = await a.call("POST", "/admin/scopes", { body: { name, description: "d" } });
      expect(r.status).toBe(400);
      expect(r.body.fields.map((f: { field: string }) => f.field)).toContain("name");
    }
    const r = await a.call("POST", "/admin/scopes", { body: { name: "ok", is_default: "yes", extra: 1 } });
    expect(r.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["description", "extra", "is_default"]);
    // Every printable character but space, quote and backslash is allowed.
    const odd = "https://api.example/read!#$%&'()*+,-./:;<=>?@[]^_`{|}~";
    expect((await a.call("POST", "/admin/scopes", { body: { name: odd, description: "url-ish" } })).status).toBe(201);
    // Shown by its URL-encoded name in the path.
    expect((await a.call("GET", `/admin/scopes/${encodeURIComponent(odd)}`)).body.name).toBe(odd);
  });

  test("409 for a duplicate name, including a system scope", async () => {
    await a.call("POST", "/admin/scopes", { body: { name: "dup", description: "first" } });
    const r = await a.call("POST", "/admin/scopes", { body: { name: "dup", description: "second" } });
    expect(r.status).toBe(409);
    expect(r.body.error).toBe("conflict");
    expect((await a.call("POST", "/admin/scopes", { body: { name: "openid", description: "x" } })).status).toBe(409);
  });

  test("update changes the given fields; defaults lists active default scopes", async () => {
    await a.call("POST", "/admin/scopes", { body: { name: "greeting", description: "Hello" } });
    const r = await a.call("PATCH", "/admin/scopes/greeting", { body: { description: "Hi", is_default: true } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "greeting", description: "Hi", is_default: true });
    const defaults = await a.call("GET", "/admin/scopes/defaults");
    expect(defaults.body.scopes.map((s: { name: string }) => s.name)).toContain("greeting");
    expect(defaults.body.scopes.every((s: { is_default: boolean }) => s.is_default)).toBe(true);
    expect((await a.call("PATCH", "/admin/scopes/greeting", { body: { is_default: "no" } })).status).toBe(400);
    expect((await a.call("PATCH", "/admin/scopes/nope", { body: { description: "x" } })).status).toBe(404);
    const [audit] = await auditRows(a.deps, "scope.update");
    expect(audit!.details.changed).toEqual(["description", "is_default"]);
  });

  test("soft delete hides the scope from lists and defaults; include_inactive shows it", async () => {
    await a.call("POST", "/admin/scopes", { body: { name: "old", description: "old", is_default: true } });
    const r = await a.call("DELETE", "/admin/scopes/old");
    expect(r.body).toEqual({ name: "old", deleted: "soft" });
    expect((await a.call("GET", "/admin/scopes/old")).body.is_active).toBe(false);
    expect((await a.call("GET", "/admin/scopes")).body.scopes.map((s: { name: string }) => s.name)).not.toContain("old");
    expect((await a.call("GET", "/admin/scopes/defaults")).body.scopes.map((s: { name: string }) => s.name)).not.toContain("old");
    expect((await a.call("GET", "/admin/scopes?include_inactive=true")).body.scopes.map((s: { name: string }) => s.name)).toContain("old");
    // An inactive scope cannot be given to a client.
    const c = await a.call("POST", "/admin/clients", { body: { client_name: "c", client_type: "public", redirect_uris: ["https://c.example/cb"], scope: "old" } });
    expect(c.status).toBe(400);
    expect(c.body.fields[0].field).toBe("scope");
  });

  test("hard delete removes the row and the scope from every client, in one transaction", async () => {
    await a.call("POST", "/admin/scopes", { body: { name: "temp", description: "temp" } });
    const c = (await a.call("POST", "/admin/clients", { body: { client_name: "c", client_type: "public", redirect_uris: ["https://c.example/cb"], scope: "openid temp" } })).body;
    const r = await a.call("DELETE", "/admin/scopes/temp?hard=true");
    expect(r.body).toEqual({ name: "temp", deleted: "hard" });
    expect((await a.call("GET", "/admin/scopes/temp")).status).toBe(404);
    expect((await a.call("GET", `/admin/clients/${c.client_id}`)).body.scope).toBe("openid");
    expect((await a.call("DELETE", "/admin/scopes/temp")).status).toBe(404);
    const [audit] = await auditRows(a.deps, "scope.delete");
    expect(audit).toMatchObject({ target_id: "temp", details: { hard: true } });
  });

  test("system scopes cannot be deleted or deactivated (409); their description can change", async () => {
    for (const name of ["openid", "offline_access", "admin:clients:read"]) {
      expect((await a.call("DELETE", `/admin/scopes/${name}`)).status).toBe(409);
      expect((await a.call("DELETE", `/admin/scopes/${name}?hard=true`)).status).toBe(409);
    }
    const r = await a.call("PATCH", "/admin/scopes/openid", { body: { is_active: false } });
    expect(r.status).toBe(409);
    expect(r.body.error_description).toContain("system scope");
    expect((await a.call("GET", "/admin/scopes/openid")).body).toMatchObject({ is_active: true, is_system: true });
    expect((await a.call("PATCH", "/admin/scopes/profile", { body: { description: "Your profile" } })).body.description).toBe("Your profile");
  });

  test("the read scope cannot write scopes", async () => {
    const token = await tokenFor(a.deps, a.admin, "admin:scopes:read");
    expect((await a.call("GET", "/admin/scopes", { token })).status).toBe(200);
    expect((await a.call("POST", "/admin/scopes", { token, body: { name: "nope", description: "x" } })).status).toBe(403);
    expect((await a.call("DELETE", "/admin/scopes/openid", { token })).status).toBe(403);
  });
});
