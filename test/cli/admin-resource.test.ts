// `authly admin resource ...` and `client update --resource` against a live server: JSON output,
// the secret shown once, exit codes (4 not found, 5 validation), --confirm on delete.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);
const w: CliWorld = await startCliWorld();

beforeAll(async () => {
  const login = await w.login();
  expect(login.code).toBe(0);
});

describe("authly admin resource", () => {
  test("create, show, update, list, allow a client, delete (--confirm)", async () => {
    const created = await w.cli(["admin", "resource", "create", "--identifier", "https://api.example.com", "--name", "Orders API", "--scope", "orders:read=Read your orders", "--scope", "orders:write", "--alg", "EdDSA", "--output", "json"]);
    expect(created.code).toBe(0);
    const res = JSON.parse(created.stdout);
    expect(res).toMatchObject({ identifier: "https://api.example.com", name: "Orders API", access_token_alg: "EdDSA", scopes: [{ name: "orders:read", description: "Read your orders" }, { name: "orders:write", description: "" }] });
    expect(res.client_secret).toMatch(/^cs_/);

    const shown = await w.cli(["admin", "resource", "show", "https://api.example.com"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("Orders API");
    expect(shown.stdout).not.toContain(res.client_secret);

    const updated = await w.cli(["admin", "resource", "update", "https://api.example.com", "--no-introspect", "--token-ttl", "600", "--output", "json"]);
    expect(JSON.parse(updated.stdout)).toMatchObject({ may_introspect: false, access_token_ttl: 600 });

    const client = JSON.parse((await w.cli(["admin", "client", "create", "--name", "App", "--type", "confidential", "--redirect-uri", "https://app.example/cb", "--output", "json"])).stdout);
    const allowed = await w.cli(["admin", "client", "update", client.client_id, "--resource", "https://api.example.com", "--default-resource", "https://api.example.com", "--output", "json"]);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ resources: ["https://api.example.com"], default_resource: "https://api.example.com" });

    const list = await w.cli(["admin", "resource", "list", "--output", "json"]);
    expect(JSON.parse(list.stdout).resources.map((r: { identifier: string }) => r.identifier)).toContain("https://api.example.com");

    const del = await w.cli(["admin", "resource", "delete", "https://api.example.com", "--hard", "--confirm", "--output", "json"]);
    expect(JSON.parse(del.stdout)).toEqual({ identifier: "https://api.example.com", deleted: "hard" });
  });

  test("exit 4 for an unknown resource, 5 for an invalid identifier or an unknown client resource", async () => {
    const missing = await w.cli(["admin", "resource", "show", "https://nowhere.example.com"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("Resource not found");
    const bad = await w.cli(["admin", "resource", "create", "--identifier", "https://x.example.com/#frag", "--name", "X"]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain("identifier");
    const client = JSON.parse((await w.cli(["admin", "client", "create", "--name", "App2", "--type", "public", "--redirect-uri", "https://app.example/cb", "--output", "json"])).stdout);
    const unknown = await w.cli(["admin", "client", "update", client.client_id, "--resource", "https://nowhere.example.com"]);
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain("resources");
  });

  test("client registration-token create: shown once, usable at /oauth/register in token mode", async () => {
    const r = await w.cli(["admin", "client", "registration-token", "create", "--expires-in", "600", "--max-uses", "2", "--output", "json"]);
    expect(r.code).toBe(0);
    const tok = JSON.parse(r.stdout);
    expect(tok).toMatchObject({ max_uses: 2 });
    expect(tok.token).toMatch(/^iat_/);
    const reg = await fetch(`${w.url}/oauth/register`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${tok.token}` }, body: JSON.stringify({ redirect_uris: ["https://app.example/cb"], token_endpoint_auth_method: "none" }) });
    expect(reg.status).toBe(201);
    const bad = await w.cli(["admin", "client", "registration-token", "create", "--max-uses", "0"]);
    expect(bad.code).toBe(5);
  });

  test("create --from-metadata registers the resource its RFC 9728 document names", async () => {
    const rs: ReturnType<typeof Bun.serve> = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (req): Response =>
        new URL(req.url).pathname === "/.well-known/oauth-protected-resource/mcp"
          ? Response.json({ resource: `http://127.0.0.1:${rs.port}/mcp`, resource_name: "Notes MCP", scopes_supported: ["notes:read"] })
          : new Response("no", { status: 404 }),
    });
    try {
      const r = await w.cli(["admin", "resource", "create", "--from-metadata", `http://127.0.0.1:${rs.port}/mcp`, "--output", "json"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ identifier: `http://127.0.0.1:${rs.port}/mcp`, name: "Notes MCP", scopes: [{ name: "notes:read", description: "" }] });
      const missing = await w.cli(["admin", "resource", "create", "--from-metadata", `http://127.0.0.1:${rs.port}/other`]);
      expect(missing.code).toBe(5);
      expect(missing.stderr).toContain("404");
    } finally {
      rs.stop(true);
    }
  });
});
