// Remembered consent can be listed and revoked through the admin API; after revocation the next
// authorization asks again and the tokens issued under the old consent stop working.
import { describe, expect, test } from "bun:test";
import { auditRows, startAdminApi } from "../support/admin";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { Browser } from "../support/browser";
import { exchangeCode, signIn } from "../support/oidc-flow";

const api = await startAdminApi();

describe("consent in the admin API", () => {
  test("list a user's consents, revoke one: the consent page returns and the old tokens are revoked", async () => {
    const client = await createOidcClient(api.deps, { client_name: "Consented App" });
    const user = await createOidcUser(api.deps);
    const b = Browser.forServer(api.url);
    const f = await signIn(b, client, user, { scope: "openid email offline_access" });
    expect(f.seen.consent).toBe(true);
    const tok = await exchangeCode({ request: (p, i) => fetch(api.url + p, i) }, client, f.callback.code!, f.verifier);
    expect(tok.status).toBe(200);

    const list = await api.call("GET", `/admin/users/${user.id}/consents`);
    expect(list.status).toBe(200);
    expect(list.body.total).toBe(1);
    expect(list.body.consents[0]).toMatchObject({ client_id: client.client_id, client_name: "Consented App" });
    expect(list.body.consents[0].scopes.sort()).toEqual(["email", "offline_access", "openid"]);

    const del = await api.call("DELETE", `/admin/users/${user.id}/consents/${client.client_id}`);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ revoked: true, revoked_grants: 1 });
    expect((await auditRows(api.deps, "consent.revoke")).length).toBe(1);

    const ui = await fetch(`${api.url}/oidc/userinfo`, { headers: { authorization: `Bearer ${tok.body.access_token}` } });
    expect(ui.status).toBe(401);
    const again = await signIn(b, client, user, { scope: "openid email" });
    expect(again.seen).toEqual({ login: false, consent: true });
  });

  test("unknown user or consent: 404; the routes need admin scopes", async () => {
    const user = await createOidcUser(api.deps);
    expect((await api.call("GET", `/admin/users/00000000-0000-0000-0000-000000000000/consents`)).status).toBe(404);
    expect((await api.call("DELETE", `/admin/users/${user.id}/consents/nope`)).status).toBe(404);
    expect((await api.call("GET", `/admin/users/${user.id}/consents`, { token: null })).status).toBe(401);
  });
});
