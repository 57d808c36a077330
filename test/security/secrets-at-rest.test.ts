// Secrets at rest (issue 8): after real flows (admin API, password grant, authorization code with
// login and consent, refresh, client secret rotation, device grant, an upstream provider's secret and key) the whole database is read directly and no
// plaintext password, client secret, refresh token, authorization code, session cookie, private key
// or configured secret is found, nor an unkeyed SHA-256 of one (hashes must be peppered HMACs).
import { describe, expect, test } from "bun:test";
import { decrypt, deriveKey, sha256 } from "../../src/lib/crypto";
import { TEST_SECRETS } from "../support/app";
import { startAdminApi } from "../support/admin";
import { Browser, exchangeCode, signIn } from "../support/oidc-flow";

const api = await startAdminApi();
const t = { request: (path: string, init?: RequestInit) => fetch(api.url + path, init), issuer: api.url };
const FORM = { "content-type": "application/x-www-form-urlencoded" };
const secrets = new Map<string, string>();
const remember = (what: string, value: unknown) => {
  expect(typeof value).toBe("string");
  secrets.set(what, value as string);
};

async function token(form: Record<string, string>, basic?: [string, string]): Promise<Record<string, any>> {
  const headers: Record<string, string> = { ...FORM };
  if (basic) headers.authorization = `Basic ${btoa(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`)}`;
  const r = await fetch(api.url + "/oauth/token", { method: "POST", headers, body: new URLSearchParams(form).toString() });
  const body = (await r.json()) as Record<string, any>;
  expect({ status: r.status, body }).toMatchObject({ status: 200 });
  return body;
}

/** Every row of every table of the test schema, as text. */
async function dumpDatabase(): Promise<string> {
  const sql = api.deps.sql;
  const tables = await sql<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`;
  expect(tables.length).toBeGreaterThan(10);
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const rows = await sql.unsafe<{ r: string }[]>(`SELECT x::text AS r FROM "${table_name}" x`);
    for (const row of rows) parts.push(`${table_name}: ${row.r}`);
  }
  return parts.join("\n");
}

describe("secrets at rest", () => {
  test("after real flows, no secret is stored in clear or as an unkeyed hash", async () => {
    // A user created through the admin API with a password, and a confidential client (secret shown once).
    const userPassword = `Pw-${crypto.randomUUID()}`;
    const created = await api.call("POST", "/admin/users", { body: { username: "rest-user", email: "rest@example.test", password: userPassword } });
    expect(created.status).toBe(201);
    remember("user password", userPassword);
    const client = await api.call("POST", "/admin/clients", {
      body: { client_name: "Rest RP", client_type: "confidential", redirect_uris: ["https://rp.example.test/cb"], grant_types: ["authorization_code", "refresh_token", "client_credentials"], scope: "openid profile offline_access", require_consent: true },
    });
    expect(client.status).toBe(201);
    remember("client secret", client.body.client_secret);
    const rotated = await api.call("POST", `/admin/clients/${encodeURIComponent(client.body.client_id)}/regenerate-secret`, { body: { grace_period_seconds: 3600 } });
    expect(rotated.status).toBe(200);
    remember("rotated client secret", rotated.body.client_secret);
    const rp = { client_id: client.body.client_id as string, client_secret: rotated.body.client_secret as string, redirect_uri: "https://rp.example.test/cb", redirect_uris: ["https://rp.example.test/cb"] };

    // Authorization code flow with login and consent, then a refresh (rotation).
    const browser = Browser.forServer(api.url);
    const flow = await signIn(browser, rp, { id: created.body.id, username: "rest-user", email: "rest@example.test", password: userPassword }, { scope: "openid profile offline_access", prompt: "consent" });
    expect(flow.callback.code).toBeDefined();
    remember("authorization code", flow.callback.code);
    for (const [name, value] of browser.jar) if (value.length >= 16) remember(`cookie ${name}`, value);
    const exchanged = await exchangeCode(t, rp, flow.callback.code!, flow.verifier);
    expect(exchanged.status).toBe(200);
    remember("refresh token (code exchange)", exchanged.body.refresh_token);
    // (The code verifier is not checked: its SHA-256 is the PKCE code_challenge, public by design.)
    const refreshed = await token({ grant_type: "refresh_token", refresh_token: exchanged.body.refresh_token! }, [rp.client_id, rp.client_secret]);
    remember("refresh token (rotated)", refreshed.refresh_token);
    remember("access token", refreshed.access_token);
    remember("id token", exchanged.body.id_token);

    // The first-party CLI password grant (admin login).
    const adminPassword = `Adm-${crypto.randomUUID()}`;
    const adminUser = await api.call("POST", "/admin/users", { body: { username: "rest-admin", password: adminPassword, is_admin: true } });
    expect(adminUser.status).toBe(201);
    remember("admin password", adminPassword);
    const cli = await token({ grant_type: "password", client_id: "authly-cli", username: "rest-admin", password: adminPassword, scope: "admin:system:read" });
    remember("CLI refresh token", cli.refresh_token);
    // A failed login with a password typo must not store the attempted password either.
    const typo = `${adminPassword}-typo`;
    const failed = await fetch(api.url + "/oauth/token", { method: "POST", headers: FORM, body: new URLSearchParams({ grant_type: "password", client_id: "authly-cli", username: "rest-admin", password: typo }).toString() });
    expect(failed.status).toBe(400);
    remember("mistyped password", typo);

    // The device authorization grant (RFC 8628) of the CLI client, approved in the signed-in browser.
    const device = await fetch(api.url + "/oauth/device_authorization", { method: "POST", headers: FORM, body: new URLSearchParams({ client_id: "authly-cli", scope: "admin:system:read" }).toString() });
    const issued = (await device.json()) as { device_code: string; user_code: string };
    remember("device code", issued.device_code);
    remember("user code", issued.user_code);
    remember("user code (normalised)", issued.user_code.replace("-", ""));
    const confirm = await browser.submit(await browser.open("/device"), "/device", { user_code: issued.user_code });
    expect((await browser.submit(confirm, "/device/decision", { decision: "allow" })).status).toBe(200);
    const deviceTokens = await token({ grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: issued.device_code, client_id: "authly-cli" });
    remember("device grant refresh token", deviceTokens.refresh_token);

    // An upstream identity provider: its client secret, and the private key of its private_key_jwt pair.
    const upstreamSecret = `Up-${crypto.randomUUID()}`;
    const idp = await api.call("POST", "/admin/idps", {
      body: { slug: "rest-idp", name: "Rest IdP", kind: "oauth2", client_id: "rest", client_secret: upstreamSecret, token_endpoint_auth_method: "private_key_jwt", authorization_endpoint: "https://idp.example.test/a", token_endpoint: "https://idp.example.test/t", userinfo_endpoint: "https://idp.example.test/u", claim_mapping: { subject: "id" } },
    });
    expect(idp.status).toBe(201);
    remember("upstream client secret", upstreamSecret);
    const [sealed] = await api.deps.sql<{ client_key_sealed: string; client_key_kid: string }[]>`SELECT client_key_sealed, client_key_kid FROM upstream_idps WHERE slug = 'rest-idp'`;
    const upstreamKey = JSON.parse(decrypt(deriveKey(TEST_SECRETS.JWT_SECRET_KEY, "upstream-client-key"), sealed!.client_key_sealed, `idp-key:rest-idp:${sealed!.client_key_kid}`)) as Record<string, string>;
    for (const member of ["d", "p", "q", "dp", "dq", "qi"]) if (upstreamKey[member]) remember(`upstream private key ${member}`, upstreamKey[member]);

    // The signing keys' private parts, and the configured secrets.
    const kek = deriveKey(TEST_SECRETS.JWT_SECRET_KEY, "signing-key-encryption");
    const keys = await api.deps.sql<{ kid: string; private_jwk_encrypted: string }[]>`SELECT kid, private_jwk_encrypted FROM signing_keys`;
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      const jwk = JSON.parse(decrypt(kek, k.private_jwk_encrypted, k.kid)) as Record<string, string>;
      for (const member of ["d", "p", "q", "dp", "dq", "qi"]) if (jwk[member]) remember(`private key ${k.kid} ${member}`, jwk[member]);
    }
    remember("JWT_SECRET_KEY", TEST_SECRETS.JWT_SECRET_KEY);
    remember("JWT_REFRESH_SECRET_KEY", TEST_SECRETS.JWT_REFRESH_SECRET_KEY);

    const dump = await dumpDatabase();
    const found: string[] = [];
    for (const [what, value] of secrets) {
      if (dump.includes(value)) found.push(`${what} in clear`);
      if (dump.includes(sha256(value))) found.push(`${what} as unkeyed SHA-256`);
      const hex = new Bun.CryptoHasher("sha256").update(value).digest("hex");
      if (dump.includes(hex)) found.push(`${what} as unkeyed SHA-256 (hex)`);
    }
    expect(found).toEqual([]);
    // Sanity: the dump does contain what it should (the flows really wrote rows).
    expect(dump).toContain("rest-user");
    expect(dump).toMatch(/refresh_tokens: /);
    expect(dump).toMatch(/authorization_codes: /);
    expect(dump).toMatch(/device_codes: /);
    expect(dump).toMatch(/\$argon2id\$/);
  }, 60_000);
});
