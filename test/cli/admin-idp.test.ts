// `authly admin idp ...` and `user show`'s linked identities, through the real CLI against a live
// server whose upstream is a second Authly server (discovery fetched by the server under test).
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { startTestServer } from "../support/app";
import { startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);
const w: CliWorld = await startCliWorld();
const upstream = await startTestServer();

beforeAll(async () => {
  expect((await w.login()).code).toBe(0);
});

describe("authly admin idp", () => {
  test("create by issuer, show (no secret), list, update, delete --confirm; unknown slug exits 4", async () => {
    const created = await w.cli(["admin", "idp", "create", "--slug", "bee", "--name", "Authly B", "--issuer", upstream.url, "--client-id", "a-at-b", "--client-secret", "s3cret-value", "--output", "json"]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ slug: "bee", kind: "oidc", token_endpoint: `${upstream.url}/oauth/token`, has_client_secret: true, redirect_uri: `${w.url}/federation/callback` });
    const shown = await w.cli(["admin", "idp", "show", "bee"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("Authly B");
    expect(shown.stdout).toContain("(set, encrypted)");
    expect(shown.stdout).not.toContain("s3cret-value");
    const updated = await w.cli(["admin", "idp", "update", "bee", "--disable", "--map", "username=nickname", "--output", "json"]);
    expect(JSON.parse(updated.stdout)).toMatchObject({ is_enabled: false, claim_mapping: { username: "nickname" } });
    const list = await w.cli(["admin", "idp", "list", "--output", "json"]);
    expect(JSON.parse(list.stdout).idps.map((p: { slug: string }) => p.slug)).toEqual(["bee"]);
    const del = await w.cli(["admin", "idp", "delete", "bee", "--confirm", "--output", "json"]);
    expect(JSON.parse(del.stdout)).toEqual({ deleted: true, slug: "bee" });
    const gone = await w.cli(["admin", "idp", "show", "bee"]);
    expect(gone.code).toBe(4);
  });

  test("needs --issuer or the endpoints (exit 5); a plain OAuth 2.0 provider without a subject mapping is refused", async () => {
    expect((await w.cli(["admin", "idp", "create", "--slug", "x", "--name", "X", "--client-id", "c"])).code).toBe(5);
    const r = await w.cli(["admin", "idp", "create", "--slug", "gh", "--name", "GitHub", "--client-id", "c", "--authorization-endpoint", "https://github.com/login/oauth/authorize", "--token-endpoint", "https://github.com/login/oauth/access_token", "--userinfo-endpoint", "https://api.github.com/user"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("claim_mapping");
  });

  test("private_key_jwt: create makes a key pair, show prints the JWKS URL and the back-channel logout URI to register, --rotate-key replaces the key", async () => {
    const created = await w.cli(["admin", "idp", "create", "--slug", "keyed", "--name", "Keyed", "--issuer", upstream.url, "--client-id", "a-at-b", "--auth-method", "private_key_jwt", "--key-alg", "ES256", "--output", "json"]);
    expect(created.code).toBe(0);
    const first = JSON.parse(created.stdout);
    expect(first).toMatchObject({ token_endpoint_auth_method: "private_key_jwt", client_key: { alg: "ES256" }, client_jwks_uri: `${w.url}/federation/jwks/keyed`, backchannel_logout_uri: `${w.url}/federation/backchannel-logout/keyed` });
    const shown = await w.cli(["admin", "idp", "show", "keyed"]);
    expect(shown.stdout).toContain(`${w.url}/federation/jwks/keyed`);
    expect(shown.stdout).toContain(`${w.url}/federation/backchannel-logout/keyed`);
    expect(shown.stdout).toContain(`ES256 ${first.client_key.kid}`);
    const rotated = JSON.parse((await w.cli(["admin", "idp", "update", "keyed", "--rotate-key", "--output", "json"])).stdout);
    expect(rotated.client_key.kid).not.toBe(first.client_key.kid);
    const jwks = await (await fetch(`${w.url}/federation/jwks/keyed`)).json();
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toEqual([rotated.client_key.kid]);
    // A method that needs a secret without one: the API's validation error, exit 5.
    const bad = await w.cli(["admin", "idp", "create", "--slug", "nosecret", "--name", "N", "--issuer", upstream.url, "--client-id", "c", "--auth-method", "client_secret_post"]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain("client_secret_post needs a client_secret");
  });

  test("user show lists linked identities", async () => {
    const u = JSON.parse((await w.cli(["admin", "user", "show", "admin", "--output", "json"])).stdout);
    expect(u.identities).toEqual([]);
    const text = await w.cli(["admin", "user", "show", "admin"]);
    expect(text.stdout).toContain("Linked identities: none");
    // Linked through the provider registered above (the sign-in itself is tested in test/integration/federation*.ts).
    await w.deps.sql`INSERT INTO user_identities (user_id, idp_id, subject, email) SELECT u.id, p.id, 'upstream-subject-1', 'admin@upstream.example' FROM users u, upstream_idps p WHERE u.username = 'admin' AND p.slug = 'keyed'`;
    const linked = await w.cli(["admin", "user", "show", "admin"]);
    expect(linked.stdout).toContain("Linked identities:");
    expect(linked.stdout).toMatch(/keyed\s+│?\s*upstream-subject-1\s+│?\s*admin@upstream\.example\s+│?\s*never/);
    expect(JSON.parse((await w.cli(["admin", "user", "show", "admin", "--output", "json"])).stdout).identities).toEqual([expect.objectContaining({ idp: "keyed", subject: "upstream-subject-1", email: "admin@upstream.example" })]);
  });
});
