// POST /federation/backchannel-logout/:slug one rule at a time (OpenID Connect Back-Channel Logout
// 1.0 §2.5-2.8, as the relying party), against a provider whose JWK Set is served on loopback:
// signature, alg, iss, aud, azp, iat window, exp, jti (and its replay), sub/sid, events, nonce,
// encryption, typ; which sessions end (§2.7); the 200 / 400 invalid_request answers with no-store.
import { describe, expect, test } from "bun:test";
import { CompactEncrypt, SignJWT, UnsecuredJWT } from "jose";
import { createTestApp } from "../support/app";
import { serveUpstreamJwks } from "../support/federation";
import { auditRows } from "../support/admin";
import { createOidcUser } from "../support/oidc-fixtures";
import { insertIdp, type IdpColumns } from "../../src/authn/upstream/store";
import { startFederatedSession, startSession } from "../../src/interaction/session";
import { BACKCHANNEL_LOGOUT_EVENT } from "../../src/authn/upstream/logout-token";

const t = await createTestApp();
const { good, other, jwksUri } = await serveUpstreamJwks();

const ISSUER = "https://upstream.example";
const CLIENT_ID = "our-client";
const base: IdpColumns = {
  slug: "up", name: "Upstream", kind: "oidc", issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, userinfo_endpoint: null,
  jwks_uri: jwksUri, client_id: CLIENT_ID, client_secret_sealed: null, token_endpoint_auth_method: "none",
  client_key_kid: null, client_key_alg: null, client_key_public: null, client_key_sealed: null, scopes: ["openid"], claim_mapping: {}, create_users: true, is_enabled: true,
};
const idp = await insertIdp(t.deps.sql, base);
const otherIdp = await insertIdp(t.deps.sql, { ...base, slug: "up2", issuer: "https://second.example" });
await insertIdp(t.deps.sql, { ...base, slug: "gh", kind: "oauth2", issuer: null, jwks_uri: null });

const EVENT = { [BACKCHANNEL_LOGOUT_EVENT]: {} };

async function token(claims: Record<string, unknown> = {}, o: { key?: CryptoKey; iat?: number; exp?: number | null; header?: Record<string, unknown> } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const body: Record<string, unknown> = { iss: ISSUER, aud: CLIENT_ID, iat: o.iat ?? now, jti: crypto.randomUUID(), events: EVENT, ...claims };
  if (o.exp !== null) body.exp = o.exp ?? now + 120;
  for (const [k, v] of Object.entries(body)) if (v === undefined) delete body[k];
  return new SignJWT(body).setProtectedHeader({ alg: "ES256", kid: "k1", typ: "logout+jwt", ...o.header }).sign(o.key ?? good.privateKey);
}

async function post(tok: string | undefined, slug = "up", init: { contentType?: string; body?: string } = {}): Promise<{ status: number; body: any; cacheControl: string | null }> {
  const r = await t.request(`/federation/backchannel-logout/${slug}`, {
    method: "POST",
    headers: { "Content-Type": init.contentType ?? "application/x-www-form-urlencoded" },
    body: init.body ?? (tok === undefined ? "" : new URLSearchParams({ logout_token: tok }).toString()),
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, cacheControl: r.headers.get("cache-control") };
}

async function refused(tok: string | undefined, slug = "up", init = {}): Promise<string> {
  const r = await post(tok, slug, init);
  expect(r.status).toBe(400);
  expect(r.cacheControl).toBe("no-store");
  expect(r.body.error).toBe("invalid_request");
  return r.body.error_description;
}

/** A user with sessions: two through `up` (upstream sid s1 and s2), one through `up2`, one local. */
async function world(sub = crypto.randomUUID()) {
  const u = await createOidcUser(t.deps);
  const fed = (idpId: string, sid: string) => startFederatedSession(t.deps, { userId: u.id, amr: [], acr: "urn:authly:acr:pwd", authTime: new Date(), idpId, upstreamSub: sub, upstreamSid: sid, ip: "127.0.0.1", userAgent: null });
  const sids = { s1: `sid-${crypto.randomUUID()}`, s2: `sid-${crypto.randomUUID()}` };
  const s1 = (await fed(idp.id, sids.s1)).session.id;
  const s2 = (await fed(idp.id, sids.s2)).session.id;
  const viaOther = (await fed(otherIdp.id, sids.s1)).session.id;
  const local = (await startSession(t.deps, { userId: u.id, methods: [{ kind: "password" }], ip: "127.0.0.1", userAgent: null })).session.id;
  const live = async () => (await t.deps.sql<{ id: string }[]>`SELECT id FROM sessions WHERE user_id = ${u.id} AND revoked_at IS NULL`).map((r) => r.id).sort();
  return { u, sub, sids, s1, s2, viaOther, local, live };
}

describe("which sessions a valid logout token ends (§2.7)", () => {
  test("sid: only the session signed in through that upstream session; 200 with no-store and no body", async () => {
    const w = await world();
    const r = await post(await token({ sub: w.sub, sid: w.sids.s1 }));
    expect(r).toEqual({ status: 200, body: null, cacheControl: "no-store" });
    expect(await w.live()).toEqual([w.s2, w.viaOther, w.local].sort());
    const [row] = await auditRows(t.deps, "logout.upstream");
    expect(row).toMatchObject({ actor: w.u.id, target_id: w.s1, details: { idp: "up", by: "sid" } });
  });

  test("sub only: every session of that upstream user through this provider, not another provider's nor a local one", async () => {
    const w = await world();
    expect((await post(await token({ sub: w.sub }))).status).toBe(200);
    expect(await w.live()).toEqual([w.viaOther, w.local].sort());
  });

  test("a disabled provider's logout token is still accepted (ending sessions is always safe)", async () => {
    const w = await world();
    await t.deps.sql`UPDATE upstream_idps SET is_enabled = false WHERE id = ${idp.id}`;
    try {
      expect((await post(await token({ sid: w.sids.s2 }))).status).toBe(200);
    } finally {
      await t.deps.sql`UPDATE upstream_idps SET is_enabled = true WHERE id = ${idp.id}`;
    }
    expect(await w.live()).toEqual([w.s1, w.viaOther, w.local].sort());
  });

  test("sid with another user's sub ends nothing (both must match); an unknown sid is still a success", async () => {
    const w = await world();
    expect((await post(await token({ sub: "someone-else", sid: w.sids.s1 }))).status).toBe(200);
    expect((await post(await token({ sid: "sid-nobody-has" }))).status).toBe(200);
    expect((await w.live()).length).toBe(4);
  });
});

describe("logout token validation (§2.6): each failure is 400 invalid_request and ends nothing", () => {
  test("the request: form body with logout_token once; an unknown provider; a plain OAuth 2.0 provider; refusals audited", async () => {
    // First in this group: refusal rows are bounded per source and minute (DENIAL_ROWS_PER_SOURCE).
    const tok = await token({ sid: "x" });
    expect(await refused(undefined)).toBe("The logout_token parameter is required.");
    expect(await refused(tok, "up", { contentType: "application/json", body: JSON.stringify({ logout_token: tok }) })).toContain("application/x-www-form-urlencoded");
    expect(await refused(tok, "up", { body: `logout_token=${tok}&logout_token=${tok}` })).toBe("logout_token must be given once, as text.");
    expect(await refused(tok, "up", { body: "logout_token=%00" })).toBe("logout_token must be given once, as text.");
    expect(await refused("not-a-jwt")).toBe("The logout token is not a JWT.");
    expect(await refused(tok, "nobody")).toBe("No identity provider is registered under this name.");
    expect(await refused(tok, "gh")).toContain("not an OpenID Connect provider");
    const rows = await auditRows(t.deps, "logout.upstream_refused");
    expect(rows[0]).toMatchObject({ outcome: "denied", target_id: "gh", details: { reason: "not_oidc" } });
    expect(rows[1]).toMatchObject({ target_id: null, details: { reason: "unknown_idp" } });
    expect(JSON.stringify(rows)).not.toContain(tok);
  });
  test("signature by another key, alg none, and an encrypted token", async () => {
    const w = await world();
    await refused(await token({ sid: w.sids.s1 }, { key: other.privateKey }));
    const none = new UnsecuredJWT({ sid: w.sids.s1, events: EVENT, jti: "n1" }).setIssuer(ISSUER).setAudience(CLIENT_ID).setIssuedAt().setExpirationTime("2m").encode();
    await refused(none);
    const jwe = await new CompactEncrypt(new TextEncoder().encode(await token({ sid: w.sids.s1 }))).setProtectedHeader({ alg: "dir", enc: "A256GCM" }).encrypt(new Uint8Array(32));
    expect(await refused(jwe)).toBe("Encrypted logout tokens are not supported.");
    expect((await w.live()).length).toBe(4);
  });

  test("iss of another server, aud of another client, several audiences without azp", async () => {
    const w = await world();
    expect(await refused(await token({ sid: w.sids.s1, iss: "https://second.example" }))).toBe("The logout token is not valid (iss).");
    expect(await refused(await token({ sid: w.sids.s1, aud: "another-client" }))).toBe("The logout token is not valid (aud).");
    expect(await refused(await token({ sid: w.sids.s1, aud: [CLIENT_ID, "x"] }))).toBe("The logout token is not valid (azp).");
    expect((await post(await token({ sid: w.sids.s1, aud: [CLIENT_ID, "x"], azp: CLIENT_ID }))).status).toBe(200);
    expect((await w.live()).length).toBe(3);
  });

  test("iat older than the 5-minute window or in the future; exp missing or past", async () => {
    const w = await world();
    const now = Math.floor(Date.now() / 1000);
    expect(await refused(await token({ sid: w.sids.s1 }, { iat: now - 600, exp: now + 60 }))).toBe("The logout token is not valid (iat).");
    expect(await refused(await token({ sid: w.sids.s1 }, { iat: now + 600, exp: now + 900 }))).toBe("The logout token is not valid (iat).");
    expect(await refused(await token({ sid: w.sids.s1 }, { exp: null }))).toBe("The logout token is not valid (exp).");
    expect(await refused(await token({ sid: w.sids.s1 }, { iat: now - 200, exp: now - 100 }))).toBe("The logout token is not valid (exp).");
    expect((await w.live()).length).toBe(4);
  });

  test("neither sub nor sid; no jti; a jti used before", async () => {
    const w = await world();
    expect(await refused(await token({}))).toBe("The logout token names neither a sub nor a sid.");
    expect(await refused(await token({ sid: w.sids.s1, jti: undefined }))).toBe("The logout token is not valid (jti).");
    const once = await token({ sid: w.sids.s1, jti: "only-once" });
    expect((await post(once)).status).toBe(200);
    const again = await token({ sid: w.sids.s2, jti: "only-once" });
    expect(await refused(again)).toBe("This logout token was already used.");
    // The same jti from another provider is another token.
    expect((await w.live()).length).toBe(3);
  });

  // Security review (h-audit): the text rule (src/lib/text.ts) on the claims that reach SQL.
  test("a sub or sid that is not valid text (NUL, lone surrogate) is refused with 400, never a 500; nothing ends", async () => {
    const w = await world();
    expect(await refused(await token({ sid: "a\u0000b" }))).toBe("The logout token's sid is not valid.");
    expect(await refused(await token({ sub: "a\u0000b" }))).toBe("The logout token's sub is not valid.");
    expect(await refused(await token({ sid: `${w.sids.s1}\ud800` }))).toBe("The logout token's sid is not valid.");
    expect(await refused(await token({ sub: w.sub, sid: "x\udc00" }))).toBe("The logout token's sid is not valid.");
    expect((await w.live()).length).toBe(4);
  });

  test("the events claim must carry the back-channel logout event as an object; a nonce is refused; an ID token is not a logout token", async () => {
    const w = await world();
    await refused(await token({ sid: w.sids.s1, events: undefined }));
    await refused(await token({ sid: w.sids.s1, events: { "http://schemas.openid.net/event/other": {} } }));
    await refused(await token({ sid: w.sids.s1, events: { [BACKCHANNEL_LOGOUT_EVENT]: "yes" } }));
    expect(await refused(await token({ sid: w.sids.s1, nonce: "n" }))).toBe("A logout token must not contain a nonce.");
    expect(await refused(await token({ sid: w.sids.s1 }, { header: { typ: "at+jwt" } }))).toBe("The token is not a logout token (typ).");
    expect((await w.live()).length).toBe(4);
  });

});

describe("the limit per source (600 logout tokens a minute)", () => {
  test("beyond it: 429 with Retry-After, the token is not looked at (its jti stays unused)", async () => {
    const w = await world();
    const tok = await token({ sid: w.sids.s1 });
    // app.handle requests come from "unknown"; the current and the next window are full.
    const key = "federation-logout:ip:unknown";
    const start = Math.floor(Date.now() / 60_000) * 60_000;
    for (const at of [start, start + 60_000]) {
      await t.deps.sql`INSERT INTO rate_limits (key, window_start, count) VALUES (${key}, ${new Date(at)}, 600)
        ON CONFLICT (key, window_start) DO UPDATE SET count = 600`;
    }
    const r = await t.request("/federation/backchannel-logout/up", { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ logout_token: tok }).toString() });
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect((await w.live()).length).toBe(4);
    await t.deps.sql`DELETE FROM rate_limits WHERE key = ${key}`;
    expect((await post(tok)).status).toBe(200);
    expect((await w.live()).length).toBe(3);
  });
});
