// Consistency across a database outage (issue 8 "Faults"): refresh-token families rotated under
// load while the database is cut and restored end with exactly one usable token each — the one the
// client holds; no authorization code is usable twice; client rows created through the admin API
// during the outage are whole or absent. Transactions, not luck: a cut rolls a rotation back.
import { describe, expect, test } from "bun:test";
import { hashSecret } from "../../src/lib/crypto";
import { createCode } from "../support/fixtures";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { seedFixtures, startProxiedServer } from "./harness";

const s = await startProxiedServer();
const f = await seedFixtures(s.deps);
const REDIRECT = "https://rp.example/cb";
const rp = await createOidcClient(s.deps, { redirect_uris: [REDIRECT] });
const user = await createOidcUser(s.deps);

const basicAuth = `Basic ${btoa(`${encodeURIComponent(rp.client_id)}:${encodeURIComponent(rp.client_secret!)}`)}`;
async function tokenRequest(form: Record<string, string>): Promise<{ status: number; body: Record<string, any> }> {
  // Bounded: a request that hangs is reported (status 0), not waited for until the test times out.
  const r = await fetch(`${s.url}/oauth/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basicAuth }, body: new URLSearchParams(form).toString(), signal: AbortSignal.timeout(25_000) }).catch(
    (err) => new Response(JSON.stringify({ error: "client_timeout", detail: String(err), form: form.grant_type }), { status: 599 }),
  );
  return { status: r.status, body: (await r.json()) as Record<string, any> };
}
async function exchange(code: { code: string; verifier: string }) {
  return tokenRequest({ grant_type: "authorization_code", code: code.code, redirect_uri: REDIRECT, code_verifier: code.verifier });
}

const FAMILIES = 6;
const DEADLINE_MS = 6_000;

describe("consistency after an outage", () => {
  test("refresh families, codes and admin writes stay consistent across a cut under load", async () => {
    // Families: one code exchange each, before the outage.
    const current: string[] = [];
    const grants: string[] = [];
    for (let i = 0; i < FAMILIES; i++) {
      const c = await createCode(s.deps, { clientId: rp.client_id, userId: user.id, redirectUri: REDIRECT });
      const r = await exchange(c);
      expect(r.status).toBe(200);
      current.push(r.body.refresh_token);
      const [row] = await s.deps.sql<{ grant_id: string }[]>`SELECT grant_id FROM refresh_tokens WHERE token_hash = ${hashSecret(s.deps.peppers.tokens, r.body.refresh_token)}`;
      grants.push(row!.grant_id);
    }
    const pendingCodes = await Promise.all(Array.from({ length: 4 }, () => createCode(s.deps, { clientId: rp.client_id, userId: user.id, redirectUri: REDIRECT, ttlSeconds: 120 })));

    const start = performance.now();
    const statuses = new Map<number, number>();
    const count = (st: number) => statuses.set(st, (statuses.get(st) ?? 0) + 1);
    const lost = new Map<number, string>();
    const unexpected: string[] = [];
    let rotations = 0;

    // Clients keep refreshing; on 503 they retry with the same token, as a real client would.
    const refreshers = current.map(async (_, i) => {
      for (let n = 0; n < 400 && performance.now() - start < DEADLINE_MS; n++) {
        const r = await tokenRequest({ grant_type: "refresh_token", refresh_token: current[i]! });
        count(r.status);
        if (r.status === 200) {
          current[i] = r.body.refresh_token;
          rotations++;
        } else if (r.status === 503) await Bun.sleep(50);
        else {
          if (r.status === 400 && r.body.error === "invalid_grant") lost.set(i, current[i]!);
          else unexpected.push(`family ${i}: ${r.status} ${JSON.stringify(r.body)}`);
          return;
        }
      }
    });
    // Admin writes during the outage: each answer is 201 or 503, and rows are whole or absent.
    const adminResults: { status: number; clientId?: string }[] = [];
    const admin = (async () => {
      for (let n = 0; n < 60 && performance.now() - start < DEADLINE_MS; n++) {
        const r = await fetch(`${s.url}/admin/clients`, {
          method: "POST",
          headers: { authorization: `Bearer ${f.adminToken}`, "content-type": "application/json" },
          body: JSON.stringify({ client_name: `outage-${n}`, client_type: "confidential", redirect_uris: ["https://o.example/cb"], scope: "openid" }),
          signal: AbortSignal.timeout(25_000),
        }).catch((err) => new Response(JSON.stringify({ error: "client_timeout", detail: String(err) }), { status: 599 }));
        const body = (await r.json()) as { client_id?: string };
        adminResults.push({ status: r.status, clientId: body.client_id });
        await Bun.sleep(40);
      }
    })();
    // Code exchanges attempted during the outage, retried on 503.
    const exchanged: (string | undefined)[] = [];
    const codes = (async () => {
      await Bun.sleep(700);
      for (const c of pendingCodes) {
        for (let n = 0; n < 100 && performance.now() - start < DEADLINE_MS; n++) {
          const r = await exchange(c);
          count(r.status);
          if (r.status === 503) {
            await Bun.sleep(50);
            continue;
          }
          exchanged.push(r.status === 200 ? r.body.refresh_token : `error ${r.status} ${r.body.error}`);
          break;
        }
      }
    })();

    await Bun.sleep(500);
    await s.proxy.cut();
    await Bun.sleep(1_200);
    await s.proxy.restore();
    await Promise.all([...refreshers, admin, codes]);

    // The outage really happened under load, and work went on after it.
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(rotations).toBeGreaterThan(FAMILIES);
    expect(unexpected).toEqual([]);
    expect([...statuses.keys()].every((st) => st === 200 || st === 400 || st === 503)).toBe(true);

    for (let i = 0; i < FAMILIES; i++) {
      const live = await s.deps.sql<{ token_hash: string }[]>`
        SELECT r.token_hash FROM refresh_tokens r JOIN grants g ON g.id = r.grant_id
        WHERE r.grant_id = ${grants[i]!} AND r.rotated_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > now() AND g.revoked_at IS NULL`;
      const presented = lost.get(i);
      if (presented === undefined) {
        // Exactly one usable refresh token, the one the client holds, and it still works.
        expect(live.map((x) => x.token_hash)).toEqual([hashSecret(s.deps.peppers.tokens, current[i]!)]);
        expect((await tokenRequest({ grant_type: "refresh_token", refresh_token: current[i]! })).status).toBe(200);
        continue;
      }
      // A family may be lost only through an in-doubt commit: the rotation committed but its
      // answer died with the connection, so the client retried the old token and reuse detection
      // revoked the family (RFC 9700 §4.14.2). Then: the presented token was rotated, its successor
      // was never used, and nothing of the family is usable any more.
      const [grant] = await s.deps.sql<{ revoked_reason: string | null }[]>`SELECT revoked_reason FROM grants WHERE id = ${grants[i]!}`;
      expect(grant!.revoked_reason).toBe("refresh_token_reuse");
      const [old] = await s.deps.sql<{ rotated_at: Date | null; created_at: Date }[]>`SELECT rotated_at, created_at FROM refresh_tokens WHERE token_hash = ${hashSecret(s.deps.peppers.tokens, presented)}`;
      expect(old!.rotated_at).not.toBeNull();
      const successors = await s.deps.sql<{ rotated_at: Date | null }[]>`
        SELECT rotated_at FROM refresh_tokens WHERE grant_id = ${grants[i]!} AND created_at >= ${old!.created_at} AND token_hash <> ${hashSecret(s.deps.peppers.tokens, presented)}`;
      expect(successors.map((x) => x.rotated_at)).toEqual([null]);
      expect(live.length).toBe(0);
      console.warn(`family ${i} lost to an in-doubt commit (rotation committed, answer lost); see SECURITY.md "Known limitations"`);
    }

    // Codes: each exchanged exactly once; a second use is refused.
    expect(exchanged.length).toBe(pendingCodes.length);
    for (const e of exchanged) expect(e).not.toMatch(/^error/);
    for (const c of pendingCodes) {
      const again = await exchange(c);
      expect(again.status).toBe(400);
      expect(again.body.error).toBe("invalid_grant");
      const [g] = await s.deps.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM grants WHERE code_hash = ${hashSecret(s.deps.peppers.tokens, c.code)}`;
      expect(g!.n).toBe(1);
    }

    // Admin writes: 201 or 503 only; every created row is whole; every 201 has its row.
    expect(adminResults.every((r) => r.status === 201 || r.status === 503)).toBe(true);
    const rows = await s.deps.sql<{ client_id: string; secret_hash: string | null; redirect_uris: string[]; client_name: string }[]>`
      SELECT client_id, secret_hash, redirect_uris, client_name FROM clients WHERE client_name LIKE 'outage-%'`;
    for (const row of rows) {
      expect(row.secret_hash).toBeTruthy();
      expect(row.redirect_uris).toEqual(["https://o.example/cb"]);
    }
    const ids = new Set(rows.map((r) => r.client_id));
    for (const r of adminResults.filter((x) => x.status === 201)) expect(ids.has(r.clientId!)).toBe(true);
  }, 60_000);
});
