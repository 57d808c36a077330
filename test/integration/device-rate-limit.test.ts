// Guessing user codes (RFC 8628 §5.1): every lookup on the verification page counts against a limit
// per source address and a limit for all sources together, both in PostgreSQL. A real server behind
// a trusted loopback proxy, so that each request can come from the address its X-Forwarded-For names;
// cookies are kept by hand.
import { expect, test } from "bun:test";
import { startTestServer } from "../support/app";
import { findForm } from "../support/browser";
import { createOidcClient } from "../support/oidc-fixtures";
import { DEVICE_CODE_GRANT } from "../../src/clients/model";

const PER_SOURCE = 2;
const GLOBAL = 5;
const s = await startTestServer({
  env: { AUTHLY_TRUSTED_PROXIES: "loopback", AUTHLY_DEVICE_USER_CODE_RATE_LIMIT: String(PER_SOURCE), AUTHLY_DEVICE_USER_CODE_GLOBAL_RATE_LIMIT: String(GLOBAL) },
});

/** The windows are fixed minutes: start counting well inside one, so none rolls over mid-test. */
async function insideOneWindow(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 45_000) await Bun.sleep(60_000 - intoMinute + 50);
}

/** One guess from `ip`: load the entry form (its cookie and CSRF token), then post the code. */
async function guess(ip: string, userCode: string): Promise<{ status: number; html: string; retryAfter: string | null }> {
  const headers = { "x-forwarded-for": ip };
  const entry = await fetch(`${s.url}/device`, { headers, redirect: "manual" });
  const cookie = entry.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const form = findForm(await entry.text(), "/device");
  const r = await fetch(`${s.url}/device`, {
    method: "POST",
    redirect: "manual",
    headers: { ...headers, cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...form.hidden, user_code: userCode }).toString(),
  });
  return { status: r.status, html: await r.text(), retryAfter: r.headers.get("retry-after") };
}

test("user code lookups are limited per source and for all sources together; over either, even the right code gets 429 with Retry-After (RFC 8628 §5.1)", async () => {
  const client = await createOidcClient(s.deps, { client_type: "public", grant_types: [DEVICE_CODE_GRANT], redirect_uris: [] });
  const issued = await fetch(`${s.url}/oauth/device_authorization`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: client.client_id, scope: "openid" }).toString(),
  });
  const { user_code } = (await issued.json()) as { user_code: string };
  await insideOneWindow();

  // Source A: PER_SOURCE wrong guesses, then refused, right code or not.
  for (let i = 0; i < PER_SOURCE; i++) expect((await guess("198.51.100.1", "BCDF-GHJK")).status).toBe(400);
  const limited = await guess("198.51.100.1", user_code);
  expect(limited.status).toBe(429);
  expect(Number(limited.retryAfter)).toBeGreaterThan(0);
  expect(limited.html).toContain('role="alert"');
  expect(limited.html).toContain("Too many codes were tried");

  // An IPv6 source is counted by its /64: two addresses of one /64 share a count.
  expect((await guess("2001:db8:1:2::a", "BCDF-GHJK")).status).toBe(400);
  expect((await guess("2001:db8:1:2::b", "BCDF-GHJK")).status).toBe(400);
  expect((await guess("2001:db8:1:2::c", user_code)).status).toBe(429);

  // GLOBAL lookups were counted in all (those refused per source never reached the global count):
  // 2 + 2 so far; one more from a fresh source, then every source is refused.
  expect((await guess("203.0.113.7", "BCDF-GHJK")).status).toBe(400);
  const everyone = await guess("203.0.113.8", user_code);
  expect(everyone.status).toBe(429);
  expect(everyone.html).toContain("Too many codes were tried");
});
