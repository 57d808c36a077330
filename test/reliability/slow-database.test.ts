// A slow database (issue 8 "Faults"): latency added on the wire by a proxy. Requests queue for the
// small pool but all complete (no deadlock, transactions included), health probes keep their own
// timeout, and when the latency goes away the same pool serves at full speed again.
import { describe, expect, test } from "bun:test";
import { createCode } from "../support/fixtures";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { leaks, seedFixtures, startProxiedServer } from "./harness";

const s = await startProxiedServer();
const f = await seedFixtures(s.deps);
const REDIRECT = "https://rp.example/cb";
const rp = await createOidcClient(s.deps, { redirect_uris: [REDIRECT] });
const user = await createOidcUser(s.deps);
const FORM = "application/x-www-form-urlencoded";
const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

async function timed(p: Promise<Response>): Promise<{ status: number; ms: number; body: string }> {
  const start = performance.now();
  const r = await p;
  const body = await r.text();
  return { status: r.status, ms: performance.now() - start, body };
}

const clientCredentials = () =>
  fetch(`${s.url}/oauth/token`, { method: "POST", headers: { "content-type": FORM, authorization: basic(f.clientId, f.clientSecret) }, body: "grant_type=client_credentials&scope=api%3Aread" });
const introspect = () =>
  fetch(`${s.url}/oauth/introspect`, { method: "POST", headers: { "content-type": FORM, authorization: basic(f.clientId, f.clientSecret) }, body: new URLSearchParams({ token: f.userToken }).toString() });
const adminStatus = () => fetch(`${s.url}/admin/status`, { headers: { authorization: `Bearer ${f.adminToken}` } });
async function codeThenRefresh(): Promise<{ status: number; ms: number; body: string }> {
  const c = await createCode(s.deps, { clientId: rp.client_id, userId: user.id, redirectUri: REDIRECT, ttlSeconds: 300 });
  const ex = await timed(fetch(`${s.url}/oauth/token`, { method: "POST", headers: { "content-type": FORM, authorization: basic(rp.client_id, rp.client_secret!) }, body: new URLSearchParams({ grant_type: "authorization_code", code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }).toString() }));
  if (ex.status !== 200) return ex;
  const rt = JSON.parse(ex.body).refresh_token as string;
  return timed(fetch(`${s.url}/oauth/token`, { method: "POST", headers: { "content-type": FORM, authorization: basic(rp.client_id, rp.client_secret!) }, body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: rt }).toString() }));
}

describe("slow database", () => {
  test("with 40 ms added each way, 4x the pool size in concurrent requests (transactions included) all complete", async () => {
    s.proxy.setLatency(40);
    try {
      const jobs: Promise<{ status: number; ms: number; body: string }>[] = [];
      for (let i = 0; i < 5; i++) jobs.push(timed(clientCredentials()), timed(introspect()), timed(adminStatus()), codeThenRefresh());
      const results = await Promise.all(jobs);
      const bad = results.filter((r) => r.status !== 200 || leaks(r.body));
      expect(bad.map((r) => `${r.status} ${r.body.slice(0, 120)}`)).toEqual([]);
      expect(results.length).toBe(4 * s.deps.config.mode.pool.max);
    } finally {
      s.proxy.setLatency(0);
    }
  }, 60_000);

  test("with 3 s added each way, /health/ready answers false within its own probe timeout and liveness stays instant", async () => {
    s.proxy.setLatency(3_000);
    try {
      const ready = await timed(fetch(`${s.url}/health/ready`));
      expect(ready.status).toBe(503);
      expect(ready.ms).toBeLessThan(5_000);
      const live = await timed(fetch(`${s.url}/health/live`));
      expect(live.status).toBe(200);
    } finally {
      s.proxy.setLatency(0);
    }
    // The pool was not poisoned: once the latency is gone, work flows again within seconds.
    const start = performance.now();
    let ok = false;
    while (!ok && performance.now() - start < 20_000) {
      ok = (await fetch(`${s.url}/health/ready`)).status === 200;
      if (!ok) await Bun.sleep(100);
    }
    expect(ok).toBe(true);
    const after = await Promise.all(Array.from({ length: 10 }, () => timed(clientCredentials())));
    expect(after.every((r) => r.status === 200)).toBe(true);
  }, 60_000);
});
