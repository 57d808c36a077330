// The guide's workflows, run as written (with `authly` for `python -m authly`) by bash against a
// live server on a real database: "Setting Up a New Application", "Managing Client Secrets",
// "Scope Management Best Practices", "Scripting & Automation" (jq), "Batch Operations", the CI
// example, and the guide's error output and exit codes.
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ADMIN_PASSWORD, startCliWorld, storedLoginHeaders, type CliWorld } from "./admin-support";

// Every test runs real processes (often several) on a shared, busy machine.
setDefaultTimeout(120_000);

const w: CliWorld = await startCliWorld();

beforeAll(async () => {
  // The guide's CI example: non-interactive login.
  const login = await w.sh(`authly admin auth login --username "$AUTHLY_ADMIN_USER" --password "$AUTHLY_ADMIN_PASS"`, { env: { AUTHLY_ADMIN_USER: "admin", AUTHLY_ADMIN_PASS: ADMIN_PASSWORD } });
  expect(login.stderr).toBe("");
  expect(login.code).toBe(0);
});


async function api(path: string): Promise<any> {
  const r = await fetch(w.url + path, { headers: await storedLoginHeaders(w.configDir, "GET", path) });
  return r.json();
}

describe("Setting Up a New Application", () => {
  test("scopes, the client with two redirect URIs and metadata, then the listings", async () => {
    const r = await w.sh(`
# 2. Create necessary scopes
authly admin scope create \\
  --name "user:read" \\
  --description "Read user information"

authly admin scope create \\
  --name "user:write" \\
  --description "Modify user information"

# 3. Create the OAuth client
authly admin client create \\
  --name "Customer Portal" \\
  --type confidential \\
  --redirect-uri "https://portal.example.com/auth/callback" \\
  --redirect-uri "https://portal.example.com/auth/silent-renew" \\
  --scope "user:read user:write" \\
  --client-uri "https://portal.example.com" \\
  --logo-uri "https://portal.example.com/logo.png"

# 4. Verify the setup
authly admin client list
authly admin scope list
`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("✓ Scope created successfully");
    expect(r.stdout).toContain("✓ Client created successfully");
    expect(r.stdout).toMatch(/Client ID: \S+/);
    expect(r.stdout).toMatch(/Client Secret: \S{20,}/);
    expect(r.stdout).toContain("Name: Customer Portal");
    expect(r.stdout).toContain("Type: confidential");
    expect(r.stdout).toContain("Redirect URIs: https://portal.example.com/auth/callback, https://portal.example.com/auth/silent-renew");
    expect(r.stdout).toContain("Scopes: user:read, user:write");
    expect(r.stdout).toContain("Status: active");
    expect(r.stdout).toContain("⚠️  Save the client secret securely - it cannot be retrieved again!");
    // The listings: the guide's table columns and totals.
    expect(r.stdout).toMatch(/│ Client ID\s+│ Name\s+│ Type\s+│ Status │ Created\s+│\n├[─┼]+┤\n│ /);
    // One rule under the header, none between rows (as the guide draws it).
    const clientTable = r.stdout.slice(r.stdout.indexOf("│ Client ID"), r.stdout.indexOf("└"));
    expect(clientTable.split("\n").filter((l) => l.startsWith("├")).length).toBe(1);
    expect(r.stdout).toMatch(/│ Customer Portal\s+│ confidential │ active │ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d │/);
    expect(r.stdout).toMatch(/Total: \d+ clients/);
    expect(r.stdout).toMatch(/│ Name\s+│ Description\s+│ Default │ Status │ Created\s+│/);
    expect(r.stdout).toMatch(/│ user:read\s+│ Read user information\s+│ No\s+│ active │/);
    expect(r.stdout).toMatch(/Total: \d+ scopes \(\d+ active, \d+ default\)/);
    // What the server now holds.
    const id = /Client ID: (\S+)/.exec(r.stdout)![1]!;
    const c = await api(`/admin/clients/${id}`);
    expect(c).toMatchObject({ client_name: "Customer Portal", client_type: "confidential", client_uri: "https://portal.example.com", logo_uri: "https://portal.example.com/logo.png", token_endpoint_auth_method: "client_secret_basic" });
    expect(c.redirect_uris).toEqual(["https://portal.example.com/auth/callback", "https://portal.example.com/auth/silent-renew"]);
    expect(c.scope.split(" ").sort()).toEqual(["user:read", "user:write"]);
  });
});

describe("Managing Client Secrets", () => {
  test("client create --require-par and update --no-require-par set require_pushed_authorization_requests (RFC 9126 §6)", async () => {
    const created = JSON.parse((await w.cli(["admin", "client", "create", "--name", "PAR app", "--type", "confidential", "--redirect-uri", "https://par.example.com/cb", "--require-par", "--output", "json"])).stdout);
    expect(created.require_pushed_authorization_requests).toBe(true);
    const shown = await w.cli(["admin", "client", "show", created.client_id]);
    expect(shown.stdout).toContain("Require PAR: Yes");
    const updated = JSON.parse((await w.cli(["admin", "client", "update", created.client_id, "--no-require-par", "--output", "json"])).stdout);
    expect(updated.require_pushed_authorization_requests).toBe(false);
  });

  test("show (without secret), regenerate-secret, update metadata", async () => {
    const created = JSON.parse((await w.cli(["admin", "client", "create", "--name", "Portal", "--type", "confidential", "--redirect-uri", "https://portal.example.com/cb", "--output", "json"])).stdout);
    const first = created.client_secret as string;
    expect(first.length).toBeGreaterThan(20);
    const r = await w.sh(`
CLIENT_ID='${created.client_id}'
# View client details (without secret)
authly admin client show "$CLIENT_ID"

# Regenerate a compromised secret
authly admin client regenerate-secret "$CLIENT_ID" --confirm

# Update client metadata
authly admin client update "$CLIENT_ID" \\
  --name "Updated Portal Name" \\
  --logo-uri "https://portal.example.com/new-logo.png"
`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [showPart, rest] = r.stdout.split("✓ Client secret regenerated");
    expect(showPart).toContain(`Client ID: ${created.client_id}`);
    expect(showPart).toContain("Name: Portal");
    expect(showPart).toContain("Client secret: set (never shown again; regenerate-secret replaces it)");
    expect(showPart).not.toContain("Client Secret:");
    expect(showPart).not.toContain(first);
    const second = /Client Secret: (\S+)/.exec(rest!)![1]!;
    expect(second).not.toBe(first);
    expect(rest).toContain("Previous secret: revoked");
    expect(rest).toContain("✓ Client updated successfully");
    expect(rest).toContain("Name: Updated Portal Name");
    expect(rest).toContain("Logo URI: https://portal.example.com/new-logo.png");
    // The new secret works at the token endpoint, the old one no longer does.
    const grant = (secret: string) =>
      fetch(`${w.url}/oauth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${btoa(`${created.client_id}:${secret}`)}` },
        body: "grant_type=client_credentials",
      });
    expect((await grant(first)).status).toBe(401);
    expect((await grant(second)).status).not.toBe(401);
  });

  test("regenerate-secret --grace-period keeps the old secret for a while; --dry-run changes nothing", async () => {
    const created = JSON.parse((await w.cli(["admin", "client", "create", "--name", "Rolling", "--type", "confidential", "--grant-type", "client_credentials", "--output", "json"])).stdout);
    expect(created.grant_types).toEqual(["client_credentials"]);
    const dry = await w.cli(["admin", "client", "regenerate-secret", created.client_id, "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("Dry run");
    const res = JSON.parse((await w.cli(["admin", "client", "regenerate-secret", created.client_id, "--grace-period", "3600", "--yes", "--output", "json"])).stdout);
    expect(res.client_id).toBe(created.client_id);
    expect(res.client_secret).not.toBe(created.client_secret);
    expect(Date.parse(res.previous_secret_expires_at)).toBeGreaterThan(Date.now() + 3000_000);
  });
});

describe("Scope Management Best Practices", () => {
  test("hierarchical scopes, default scopes, scope defaults", async () => {
    const r = await w.sh(`
# Create hierarchical scopes
authly admin scope create \\
  --name "api:read" \\
  --description "Read API resources"

authly admin scope create \\
  --name "api:write" \\
  --description "Write API resources"

authly admin scope create \\
  --name "api:delete" \\
  --description "Delete API resources"

# Create default scopes (automatically granted)
authly admin scope create \\
  --name "openid-extra" \\
  --description "OpenID Connect authentication" \\
  --default

authly admin scope create \\
  --name "profile-extra" \\
  --description "User profile information" \\
  --default

# View default scopes
authly admin scope defaults
`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const table = r.stdout.slice(r.stdout.lastIndexOf("┌"));
    expect(table).toMatch(/│ openid-extra\s+│ OpenID Connect authentication\s+│ Yes\s+│ active │/);
    expect(table).toMatch(/│ profile-extra\s+│ User profile information\s+│ Yes\s+│ active │/);
    expect(table).not.toContain("api:read");
    expect(r.stdout).toMatch(/Total: \d+ default scopes?/);
  });

  test("the guide's openid/profile default scopes already exist as system scopes: a clear conflict, exit 5", async () => {
    const r = await w.cli(["admin", "scope", "create", "--name", "openid", "--description", "OpenID Connect authentication", "--default"]);
    expect(r.code).toBe(5);
    expect(r.stderr.split("\n")[0]).toMatch(/^Error: .*openid/i);
    // The error names the next command: the built-in scope is there to be seen or changed.
    expect(r.stderr).toContain("`authly admin scope show openid`");
    expect(r.stderr).toContain('`authly admin scope update openid --description "..."`');
  });

  test("a client asking for scopes that do not exist yet is refused with the commands that create them", async () => {
    // The guide's "Backend Service" example on a fresh server, with scopes no other test creates.
    const r = await w.cli(["admin", "client", "create", "--name", "Backend Service", "--type", "confidential", "--redirect-uri", "https://api.example.com/oauth/callback", "--scope", "reports:read reports:write openid"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("scope: unknown or inactive scope(s): reports:read, reports:write");
    expect(r.stderr).toContain('Create each missing scope first: `authly admin scope create --name reports:read --description "..."`, `authly admin scope create --name reports:write --description "..."`');
    expect(r.stderr).toContain("`authly admin scope update NAME --activate`");
    const show = await w.cli(["admin", "scope", "show", "reports:read"]);
    expect(show.code).toBe(4);
    expect(show.stderr).toContain('create it with `authly admin scope create --name reports:read --description "..."`');
  });

  test("show, update, delete (soft), --show-inactive, JSON", async () => {
    await w.cli(["admin", "scope", "create", "--name", "legacy", "--description", "Old things"]);
    const upd = await w.cli(["admin", "scope", "update", "legacy", "--description", "Older things", "--default"]);
    expect(upd.code).toBe(0);
    expect(upd.stdout).toContain("Description: Older things");
    expect(upd.stdout).toContain("Default: Yes");
    const show = JSON.parse((await w.cli(["admin", "scope", "show", "legacy", "--output", "json"])).stdout);
    expect(show).toMatchObject({ name: "legacy", description: "Older things", is_default: true, is_active: true });
    const del = await w.cli(["admin", "scope", "delete", "legacy", "--confirm"]);
    expect(del.code).toBe(0);
    expect(del.stdout).toContain("✓ Scope 'legacy' deleted");
    const active = JSON.parse((await w.cli(["admin", "scope", "list", "--output", "json"])).stdout);
    expect(active.scopes.map((s: any) => s.name)).not.toContain("legacy");
    expect(active.total).toBe(active.scopes.length);
    const all = JSON.parse((await w.cli(["admin", "scope", "list", "--show-inactive", "--output", "json"])).stdout);
    if (all.scopes.some((s: any) => s.name === "legacy")) expect(all.scopes.find((s: any) => s.name === "legacy").is_active).toBe(false);
  });
});

describe("Scripting & Automation", () => {
  test("JSON output for scripts: list | jq '.clients[].client_id', create | jq -r '.client_id'", async () => {
    const r = await w.sh(`
# Get client list in JSON format
clients=$(authly admin client list --output json)
echo "$clients" | jq '.clients[].client_id'

# Create client and extract client_id
client_info=$(authly admin client create \\
  --name "Automated Client" \\
  --type confidential \\
  --redirect-uri "https://example.com/callback" \\
  --output json)

client_id=$(echo "$client_info" | jq -r '.client_id')
echo "Created client: $client_id"
echo "$client_info" | jq -e '.client_secret | length > 20' > /dev/null
authly admin client list --output json | jq -e --arg id "$client_id" '[.clients[].client_id] | index($id) != null' > /dev/null
authly admin client list --output json | jq -e '.total >= (.clients | length)' > /dev/null
`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"authly-cli"');
    expect(r.stdout).toMatch(/Created client: [\w-]{8,}\n/);
  });

  test("Batch Operations: the guide's loop creates every scope", async () => {
    const r = await w.sh(`
# Create multiple scopes
scopes=("read" "write" "delete" "admin")
descriptions=("Read access" "Write access" "Delete access" "Admin access")

for i in "\${!scopes[@]}"; do
  authly admin scope create \\
    --name "\${scopes[$i]}" \\
    --description "\${descriptions[$i]}"
done
authly admin scope list --output json | jq -r '.scopes[] | "\\(.name)=\\(.description)"'
`);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const line of ["read=Read access", "write=Write access", "delete=Delete access", "admin=Admin access"]) expect(r.stdout.split("\n")).toContain(line);
  });

  test("CI/CD: client create --output json > client.json", async () => {
    const r = await w.sh(`
authly admin client create \\
  --name "Production Deploy" \\
  --type confidential \\
  --redirect-uri "$PRODUCTION_CALLBACK_URL" \\
  --output json > client.json
jq -r '.client_name + " " + .redirect_uris[0]' client.json
`, { env: { PRODUCTION_CALLBACK_URL: "https://deploy.example.com/cb" } });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("Production Deploy https://deploy.example.com/cb");
  });

  test("pagination, --show-inactive and delete (soft, then --hard) of clients", async () => {
    const ids: string[] = [];
    for (const n of ["Page A", "Page B", "Page C"]) ids.push(JSON.parse((await w.cli(["admin", "client", "create", "--name", n, "--type", "public", "--redirect-uri", "http://localhost:3000/callback", "--output", "json"])).stdout).client_id);
    const page = JSON.parse((await w.cli(["admin", "client", "list", "--limit", "2", "--offset", "1", "--output", "json"])).stdout);
    expect(page.clients.length).toBe(2);
    expect(page).toMatchObject({ limit: 2, offset: 1 });
    const table = await w.cli(["admin", "client", "list", "--limit", "2"]);
    expect(table.stdout).toMatch(/Total: \d+ clients \(showing 1-2\)/);
    const dry = await w.cli(["admin", "client", "delete", ids[0]!, "--dry-run"]);
    expect(dry.stdout).toContain("Dry run: would deactivate client 'Page A'");
    expect((await api(`/admin/clients/${ids[0]}`)).is_active).toBe(true);
    const soft = JSON.parse((await w.cli(["admin", "client", "delete", ids[0]!, "--confirm", "--output", "json"])).stdout);
    expect(soft).toEqual({ client_id: ids[0], deleted: "soft" });
    const active = JSON.parse((await w.cli(["admin", "client", "list", "--limit", "100", "--output", "json"])).stdout);
    expect(active.clients.map((c: any) => c.client_id)).not.toContain(ids[0]);
    const all = JSON.parse((await w.cli(["admin", "client", "list", "--limit", "100", "--show-inactive", "--output", "json"])).stdout);
    expect(all.clients.find((c: any) => c.client_id === ids[0]).is_active).toBe(false);
    const hard = await w.cli(["admin", "client", "delete", ids[1]!, "--hard", "--yes"]);
    expect(hard.stdout).toContain("✓ Client 'Page B' deleted permanently");
    expect((await w.cli(["admin", "client", "show", ids[1]!])).code).toBe(4);
  });

  test("public client: no secret; --post-logout-redirect-uri, --grant-type, --auth-method, --scope repeated, --contacts", async () => {
    const r = await w.cli([
      "admin", "client", "create", "--name", "SPA", "--type", "public",
      "--redirect-uri", "myapp://callback", "--redirect-uri", "http://localhost:3000/callback",
      "--post-logout-redirect-uri", "http://localhost:3000/", "--post-logout-redirect-uri", "http://localhost:3000/bye",
      "--scope", "read", "--scope", "write", "--contacts", "a@spa.example", "--contacts", "b@spa.example", "--output", "json",
    ]);
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.client_secret).toBeUndefined();
    expect(c).toMatchObject({ client_type: "public", token_endpoint_auth_method: "none", grant_types: ["authorization_code", "refresh_token"] });
    expect(c.post_logout_redirect_uris).toEqual(["http://localhost:3000/", "http://localhost:3000/bye"]);
    expect(c.contacts).toEqual(["a@spa.example", "b@spa.example"]);
    expect(c.scope.split(" ").sort()).toEqual(["read", "write"]);
    const table = await w.cli(["admin", "client", "create", "--name", "SPA 2", "--type", "public", "--redirect-uri", "http://localhost:3000/callback"]);
    expect(table.stdout).not.toContain("Client Secret");
    expect(table.stdout).not.toContain("Save the client secret");
    const post = JSON.parse((await w.cli(["admin", "client", "create", "--name", "Post", "--type", "confidential", "--auth-method", "client_secret_post", "--grant-type", "client_credentials", "--output", "json"])).stdout);
    expect(post.token_endpoint_auth_method).toBe("client_secret_post");
  });

  test("--backchannel-logout-uri on create and update (https, http only on loopback, \"\" removes it); client show prints it", async () => {
    const help = await w.cli(["admin", "client", "update", "--help"]);
    expect(help.stdout).toMatch(/--backchannel-logout-uri URL\s+Where logout tokens are POSTed/);
    const created = await w.cli([
      "admin", "client", "create", "--name", "BCL App", "--type", "confidential",
      "--redirect-uri", "https://bcl.example.com/cb", "--backchannel-logout-uri", "https://bcl.example.com/backchannel-logout",
    ]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("Back-channel logout URI: https://bcl.example.com/backchannel-logout");
    const id = /Client ID: (\S+)/.exec(created.stdout)![1]!;
    expect((await api(`/admin/clients/${id}`)).backchannel_logout_uri).toBe("https://bcl.example.com/backchannel-logout");

    const shown = await w.cli(["admin", "client", "show", id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("Back-channel logout URI: https://bcl.example.com/backchannel-logout");

    const loopback = await w.cli(["admin", "client", "update", id, "--backchannel-logout-uri", "http://127.0.0.1:8080/bcl"]);
    expect(loopback.code).toBe(0);
    expect(loopback.stdout).toContain("Back-channel logout URI: http://127.0.0.1:8080/bcl");

    // The server's rule (OIDC Back-Channel Logout §2.2 over TLS): plain http elsewhere is refused, exit 5.
    const plain = await w.cli(["admin", "client", "update", id, "--backchannel-logout-uri", "http://bcl.example.com/bcl"]);
    expect(plain.code).toBe(5);
    expect(plain.stderr).toContain("backchannel_logout_uri");
    expect((await api(`/admin/clients/${id}`)).backchannel_logout_uri).toBe("http://127.0.0.1:8080/bcl");

    // A private address is refused in every mode (SECURITY.md "Outbound requests"): exit 5, the field and why.
    const internal = await w.cli(["admin", "client", "update", id, "--backchannel-logout-uri", "https://10.0.0.8/bcl"]);
    expect(internal.code).toBe(5);
    expect(internal.stderr).toContain("backchannel_logout_uri");
    expect(internal.stderr).toContain("private address (10.0.0.0/8)");

    const removed = await w.cli(["admin", "client", "update", id, "--backchannel-logout-uri", "", "--output", "json"]);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout).backchannel_logout_uri).toBeNull();
    expect((await w.cli(["admin", "client", "show", id])).stdout).not.toContain("Back-channel logout URI: http");
  });
});

describe("users and signing keys (same feel as clients and scopes)", () => {
  test("user create (generated password), list, show by username, update, reset-password, deactivate", async () => {
    const created = JSON.parse((await w.cli(["admin", "user", "create", "--username", "alice", "--email", "alice@example.com", "--generate-password", "--output", "json"])).stdout);
    expect(created.username).toBe("alice");
    expect(created.password_hash).toBeUndefined();
    expect(String(created.generated_password).length).toBeGreaterThanOrEqual(12);
    const list = await w.cli(["admin", "user", "list", "--search", "alice"]);
    expect(list.stdout).toMatch(/│ alice\s+│ alice@example\.com\s+│ No\s+│ active │/);
    const show = await w.cli(["admin", "user", "show", "alice"]);
    expect(show.stdout).toContain(`ID: ${created.id}`);
    const upd = JSON.parse((await w.cli(["admin", "user", "update", "alice", "--name", "Alice Liddell", "--admin", "--output", "json"])).stdout);
    expect(upd).toMatchObject({ name: "Alice Liddell", is_admin: true });
    const reset = await w.cli(["admin", "user", "reset-password", created.id, "--password", "Another-Long-Password-1"]);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain("✓ Password of 'alice' reset");
    const login = await w.cli(["admin", "auth", "login", "--username", "alice", "--password", "Another-Long-Password-1"], { env: { AUTHLY_CONFIG_DIR: `${w.home}/alice` } });
    expect(login.code).toBe(0);
    const sessions = JSON.parse((await w.cli(["admin", "user", "sessions", "alice", "--output", "json"])).stdout);
    expect(sessions.grants.length).toBeGreaterThanOrEqual(1);
    expect(sessions.grants[0].client_id).toBe("authly-cli");
    const revoked = JSON.parse((await w.cli(["admin", "user", "revoke-sessions", "alice", "--confirm", "--output", "json"])).stdout);
    expect(revoked.revoked_grants).toBeGreaterThanOrEqual(1);
    const aliceLogin = await w.cli(["admin", "client", "list"], { env: { AUTHLY_CONFIG_DIR: `${w.home}/alice` } });
    expect(aliceLogin.code).toBe(2);
    const consents = JSON.parse((await w.cli(["admin", "user", "consents", "alice", "--output", "json"])).stdout);
    expect(consents).toEqual({ consents: [], total: 0 });
    const noConsent = await w.cli(["admin", "user", "revoke-consent", "alice", "authly-cli", "--confirm"]);
    expect(noConsent.code).toBe(4);
    const noConsentDry = await w.cli(["admin", "user", "revoke-consent", "alice", "authly-cli", "--dry-run"]);
    expect(noConsentDry.code).toBe(4);
    expect(noConsentDry.stderr.split("\n")[0]).toBe("Error: Consent not found");
    const deact = await w.cli(["admin", "user", "deactivate", "alice", "--confirm"]);
    expect(deact.code).toBe(0);
    expect(deact.stdout).toContain("✓ User 'alice' deactivated");
    expect((await w.cli(["admin", "user", "show", "nobody-here"])).code).toBe(4);
    await w.cli(["admin", "user", "create", "--username", "erin", "--email", "erin@example.com", "--generate-password"]);
    const dry = await w.cli(["admin", "user", "delete", "erin", "--hard", "--dry-run"]);
    expect(dry.stdout).toContain("Dry run: would permanently delete user 'erin'");
    const hard = await w.cli(["admin", "user", "delete", "erin", "--hard", "--confirm"]);
    expect(hard.stdout).toContain("✓ User 'erin' deleted permanently");
    expect((await w.cli(["admin", "user", "show", "erin"])).code).toBe(4);
  });

  test("key list and key rotate (dry run, then --confirm)", async () => {
    const before = JSON.parse((await w.cli(["admin", "key", "list", "--output", "json"])).stdout);
    const active = before.keys.find((k: any) => k.alg === "ES256" && k.state === "active");
    const next = before.keys.find((k: any) => k.alg === "ES256" && k.state === "next");
    expect(active).toBeDefined();
    const dry = await w.cli(["admin", "key", "rotate", "--alg", "ES256", "--dry-run"]);
    expect(dry.stdout).toContain(`Dry run: would rotate the ES256 signing key; active now: ${active.kid} (ES256)`);
    const r = await w.cli(["admin", "key", "rotate", "--alg", "ES256", "--confirm"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("✓ Signing keys rotated");
    const after = JSON.parse((await w.cli(["admin", "key", "list", "--output", "json"])).stdout);
    expect(after.keys.find((k: any) => k.kid === active.kid).state).toBe("retired");
    if (next) expect(after.keys.find((k: any) => k.kid === next.kid).state).toBe("active");
    // Our own session survives a rotation (old tokens stay verifiable).
    expect((await w.cli(["admin", "status"])).code).toBe(0);
  });
});

describe("audit log", () => {
  test("audit list shows what the CLI did; --action filters; JSON for scripts", async () => {
    await w.cli(["admin", "scope", "create", "--name", "audited", "--description", "x"]);
    const j = JSON.parse((await w.cli(["admin", "audit", "list", "--action", "scope.create", "--output", "json"])).stdout);
    expect(j.events.length).toBeGreaterThanOrEqual(1);
    expect(j.events.every((e: any) => e.action === "scope.create")).toBe(true);
    expect(j.events.some((e: any) => e.target_id === "audited")).toBe(true);
    const table = await w.cli(["admin", "audit", "list", "--limit", "5"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ Time\s+│ Action\s+│ Outcome\s+│ Actor\s+│ Target\s+│ Source IP\s+│/);
    expect((await w.cli(["admin", "audit", "list", "--limit", "500"])).code).toBe(5);
  });
});

describe("system status", () => {
  test("status as the guide shows it; --verbose shows modes and pools; --output json for monitoring", async () => {
    const r = await w.cli(["admin", "status"]);
    expect(r.code).toBe(0);
    for (const s of ["Authly System Status", "🟢 System Health: Healthy", "📊 Version:", "⏱️  Uptime:", "Database:", "  Status: Connected", "  Pool Size:", "OAuth Metrics:", "  Active Clients:", "  Total Scopes:", "  Active Tokens:", "Admin API:", "  Status: Enabled", `  URL: ${w.url}`, "requests/minute", "Last Updated:"]) {
      expect(r.stdout).toContain(s);
    }
    // The guide's table has "Active Connections"; the latency is shown too.
    expect(r.stdout).toMatch(/^  Active Connections: \d+ \(\d+ open\)$/m);
    expect(r.stdout).toMatch(/^  Latency: [\d.]+ ms$/m);
    const v = await w.cli(["admin", "status", "--verbose"]);
    expect(v.stdout).toContain("CLI: mode=cli (command) pool=1-3");
    expect(v.stdout).toContain("Server: mode=testing");
    const prod = await w.cli(["admin", "status", "--verbose"], { env: { AUTHLY_MODE: "production" } });
    expect(prod.stdout).toContain("CLI: mode=production (env) pool=5-20");
    const j = JSON.parse((await w.cli(["admin", "status", "--output", "json"])).stdout);
    expect(j).toMatchObject({ status: "healthy", database: { status: "connected" }, cli: { api_url: w.url, mode: { name: "cli", source: "command" } } });
    expect(typeof j.counts.active_clients).toBe("number");
  });
});

describe("errors and exit codes (guide: Error Handling)", () => {
  test("client show invalid-client: the guide's two lines on stderr, exit code 4", async () => {
    const r = await w.cli(["admin", "client", "show", "invalid-client"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("Error: Client not found\nClient ID 'invalid-client' does not exist or has been deleted.\n");
  });

  test("0 success, 5 validation (server-side: a bad redirect URI, a duplicate scope), no stack trace", async () => {
    const ok = await w.cli(["admin", "scope", "show", "openid"]);
    expect(ok.code).toBe(0);
    const bad = await w.cli(["admin", "client", "create", "--name", "Bad", "--type", "public", "--redirect-uri", "not a url"]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toMatch(/^Error: /);
    expect(bad.stderr).toContain("redirect_uris");
    await w.cli(["admin", "scope", "create", "--name", "dup", "--description", "x"]);
    const dup = await w.cli(["admin", "scope", "create", "--name", "dup", "--description", "x"]);
    expect(dup.code).toBe(5);
    for (const r of [bad, dup]) expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    const nothing = await w.cli(["admin", "client", "update", "authly-cli"]);
    expect(nothing.code).toBe(5);
    expect(nothing.stderr).toContain("Nothing to update");
  });

  test("3 permission denied: a logged-in user without admin rights", async () => {
    await w.cli(["admin", "user", "create", "--username", "bob", "--email", "bob@example.com", "--password", "Bob-Password-12345"]);
    const dir = `${w.home}/bob`;
    const login = await w.cli(["admin", "auth", "login", "--username", "bob", "--password", "Bob-Password-12345"], { env: { AUTHLY_CONFIG_DIR: dir } });
    // The token endpoint grants a non-admin no admin scopes; login succeeds and says so.
    expect(login.code).toBe(0);
    expect(login.stderr).toContain("granted no admin scopes");
    const r = await w.cli(["admin", "client", "list"], { env: { AUTHLY_CONFIG_DIR: dir } });
    expect(r.code).toBe(3);
    expect(r.stderr.split("\n")[0]).toBe("Error: Permission denied");
  });

  test("2 authentication error: bad password at login", async () => {
    const bad = await w.cli(["admin", "auth", "login", "--username", "admin", "--password", "wrong-password-123"], { env: { AUTHLY_CONFIG_DIR: `${w.home}/bad` } });
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n")[0]).toBe("Error: Login failed: invalid username or password");
  });

  test("1 general error: the server cannot be reached", async () => {
    const r = await w.cli(["admin", "auth", "status", "--api-url", "http://127.0.0.1:9"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Error: Cannot reach the Authly admin API at http://127.0.0.1:9");
  });

  test("a stored login for another URL: a server that is down is reported as down (exit 1), one that answers needs its own login (exit 2)", async () => {
    const { freePort } = await import("../support/app");
    const down = `http://127.0.0.1:${await freePort()}`;
    const r = await w.cli(["admin", "status", "--api-url", down]);
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe(`Error: Cannot reach the Authly admin API at ${down}`);
    expect(r.stderr).toContain(`Your stored login is for ${w.url}, another URL`);
    expect(r.stderr).toContain(`authly admin auth login --api-url ${down}`);
    const other = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ status: "ok" }) });
    try {
      const up = await w.cli(["admin", "status", "--api-url", `http://127.0.0.1:${other.port}`]);
      expect(up.code).toBe(2);
      expect(up.stderr).toContain(`Your stored login is for ${w.url}. Log in to this URL with \`authly admin auth login --api-url http://127.0.0.1:${other.port}\``);
    } finally {
      other.stop(true);
    }
  });

  test("the stored token is never sent to another server than the one of the login (exit 2)", async () => {
    let leaked = false;
    const other = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => ((leaked ||= req.headers.has("authorization")), Response.json({})) });
    try {
      const r = await w.cli(["admin", "status", "--api-url", `http://127.0.0.1:${other.port}`]);
      expect(r.code).toBe(2);
      expect(r.stderr.split("\n")[0]).toBe(`Error: Logged in to ${w.url}, not to http://127.0.0.1:${other.port}`);
      const viaEnv = await w.cli(["admin", "client", "list"], { env: { AUTHLY_ADMIN_API_URL: `http://127.0.0.1:${other.port}` } });
      expect(viaEnv.code).toBe(2);
      // refresh talks to the issuer only (and then refuses to verify at the other URL).
      const refresh = await w.cli(["admin", "auth", "refresh"], { env: { AUTHLY_ADMIN_API_URL: `http://127.0.0.1:${other.port}` } });
      expect(refresh.stdout).toContain("✓ Token refreshed successfully");
      expect(refresh.code).toBe(2);
      expect(leaked).toBe(false);
    } finally {
      other.stop(true);
    }
  });
});
