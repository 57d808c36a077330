// AUTHLY_AUTHORIZE_RATE_LIMIT: authorization requests that open a login/consent interaction, and
// the login/consent form posts, per source address and minute, counted in PostgreSQL by every node.
// Two real servers on one database, behind a trusted proxy (loopback) that names the client.
import { afterAll, describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { createSql } from "../../src/db/sql";
import { POOL_SETTINGS } from "../../src/modes";
import { buildDeps, listen, prepareDatabase, type RunningServer } from "../../src/server";
import { freePort, testEnv } from "../support/app";
import { createTestDatabase } from "../support/db";
import { Browser, authorizeUrl, isLoginPage, pkce } from "../support/browser";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { authParams, signIn } from "../support/oidc-flow";

const LIMIT = 3;
const db = await createTestDatabase();

/** One node of the deployment: its own pool and listener, the shared database and issuer. */
async function startNode(): Promise<RunningServer> {
  const port = await freePort();
  const config = loadConfig(
    testEnv(db, { AUTHLY_HOST: "127.0.0.1", AUTHLY_PORT: String(port), AUTHLY_TRUSTED_PROXIES: "loopback", AUTHLY_AUTHORIZE_RATE_LIMIT: String(LIMIT) }),
    { purpose: "server" },
  );
  const deps = buildDeps(config, createSql({ url: db.url, pool: POOL_SETTINGS.testing }));
  await prepareDatabase(deps, { migrate: true, bootstrap: false });
  const running = await listen(deps);
  afterAll(() => running.stop());
  return running;
}

const nodeA = await startNode();
const nodeB = await startNode();
const client = await createOidcClient(nodeA.deps, { redirect_uris: ["https://rp.example.com/callback"] });
const user = await createOidcUser(nodeA.deps);
const { challenge } = pkce();

/** A browser whose requests reach `node` through the proxy as coming from `ip`. */
function browserAt(node: RunningServer, ip: string): Browser {
  return new Browser((u, init) => {
    const headers = new Headers(init.headers);
    headers.set("x-forwarded-for", ip);
    return fetch(u.startsWith("http") ? u : node.url + u, { ...init, headers, redirect: "manual" });
  }, node.url);
}

function authorize(node: RunningServer, ip: string, extra: Record<string, string | undefined> = {}): Promise<Response> {
  return fetch(node.url + authorizeUrl(authParams(client, challenge, extra)), { redirect: "manual", headers: { "x-forwarded-for": ip } });
}

async function interactionRows(): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM interactions`;
  return row!.n;
}

async function sessionRows(): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sessions`;
  return row!.n;
}

/** The windows are fixed minutes: start a test's counting well inside one, so none rolls over. */
async function insideOneWindow(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 50_000) await Bun.sleep(60_000 - intoMinute + 50);
}

/** The refusal a browser sees: an HTML page with 429 and Retry-After, never a redirect to the client. */
async function expectRefusedPage(r: Response): Promise<void> {
  expect(r.status).toBe(429);
  expect(r.headers.get("location")).toBeNull();
  const retry = Number(r.headers.get("retry-after"));
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(60);
  expect(r.headers.get("content-type")).toContain("text/html");
  expect(r.headers.get("cache-control")).toBe("no-store");
  expect(r.headers.get("set-cookie")).toBeNull();
  const html = await r.text();
  expect(html).toContain("<h1>Too many requests</h1>");
  expect(html).toContain("Wait a minute");
  expect(html).not.toMatch(/at \S+ \(|\.ts:\d+|stack/i);
}

describe("authorization requests per source address (AUTHLY_AUTHORIZE_RATE_LIMIT)", () => {
  test("the limit's requests open interactions, the next one is refused with a 429 page, and no interaction row is written for it", async () => {
    await insideOneWindow();
    const ip = "203.0.113.10";
    const before = await interactionRows();
    for (let i = 0; i < LIMIT; i++) {
      const r = await authorize(nodeA, ip);
      expect(r.status).toBe(303);
      expect(r.headers.get("location")).toMatch(/^\/interaction\/[\w-]+$/);
    }
    expect(await interactionRows()).toBe(before + LIMIT);
    for (let i = 0; i < 2; i++) await expectRefusedPage(await authorize(nodeA, ip, { state: `refused-${i}` }));
    // A form POST of the authorization endpoint (OIDC Core §3.1.2.1) is counted the same way.
    const post = await fetch(nodeA.url + "/oauth/authorize", {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": ip },
      body: new URLSearchParams(authParams(client, challenge) as Record<string, string>).toString(),
    });
    await expectRefusedPage(post);
    expect(await interactionRows()).toBe(before + LIMIT);
  });

  test("another source address behind the trusted proxy is counted on its own and still allowed", async () => {
    await insideOneWindow();
    const busy = "203.0.113.20";
    for (let i = 0; i < LIMIT; i++) expect((await authorize(nodeA, busy)).status).toBe(303);
    expect((await authorize(nodeA, busy)).status).toBe(429);
    const other = await browserAt(nodeA, "198.51.100.20").open(authorizeUrl(authParams(client, challenge)));
    expect(isLoginPage(other)).toBe(true);
    // The proxy's own address is a third source with its own count.
    const direct = await fetch(nodeA.url + authorizeUrl(authParams(client, challenge)), { redirect: "manual" });
    expect(direct.status).toBe(303);
  });

  test("the count is shared by the nodes on one database: requests at A, B, A use it up, the next at B is refused", async () => {
    await insideOneWindow();
    const ip = "203.0.113.30";
    const before = await interactionRows();
    for (const node of [nodeA, nodeB, nodeA]) expect((await authorize(node, ip)).status).toBe(303);
    await expectRefusedPage(await authorize(nodeB, ip));
    await expectRefusedPage(await authorize(nodeA, ip));
    expect(await interactionRows()).toBe(before + LIMIT);
  });

  test("a refused request is never redirected: an unregistered redirect_uri still gets its own page, a valid request its 429 page", async () => {
    await insideOneWindow();
    const ip = "203.0.113.40";
    for (let i = 0; i < LIMIT; i++) expect((await authorize(nodeB, ip)).status).toBe(303);
    const bad = await authorize(nodeB, ip, { redirect_uri: "https://evil.example/cb" });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("location")).toBeNull();
    expect(await bad.text()).toContain("does not match any redirect URI");
    await expectRefusedPage(await authorize(nodeB, ip, { state: "s-after-limit" }));
  });

  test("only requests that open an interaction count: a signed-in browser is answered at once from its session after the limit is used up", async () => {
    await insideOneWindow();
    const ip = "203.0.113.50";
    const browser = browserAt(nodeA, ip);
    // Interaction 1 (plus one login and one consent POST, counted apart).
    const first = await signIn(browser, client, user);
    expect(first.callback.code).toBeDefined();
    for (let i = 1; i < LIMIT; i++) expect((await authorize(nodeB, ip)).status).toBe(303);
    await expectRefusedPage(await authorize(nodeB, ip));
    // Same address, same window: the session and the remembered consent need no interaction.
    const again = await signIn(browser, client, user);
    expect(again.seen).toEqual({ login: false, consent: false });
    expect(again.callback.code).toBeDefined();
  });
});

describe("login and consent form posts per source address", () => {
  test("form posts beyond the limit get a 429 page before the form is read, and a refused login starts no session", async () => {
    await insideOneWindow();
    const ip = "203.0.113.60";
    // A real interaction from a fresh address (the authorization request has its own count).
    const browser = browserAt(nodeA, ip);
    const login = await browser.open(authorizeUrl(authParams(client, challenge)));
    expect(isLoginPage(login)).toBe(true);
    // Posts to unknown interactions use up the address's form budget, on both nodes.
    for (const node of [nodeA, nodeB, nodeA]) {
      const r = await fetch(node.url + "/interaction/unknown-interaction/login", {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": ip },
        body: "login=x&password=y&csrf_token=z",
      });
      expect(r.status).toBe(400);
    }
    const sessionsBefore = await sessionRows();
    const refused = await browser.submit(login, "/login", { login: user.username, password: user.password });
    expect(refused.status).toBe(429);
    expect(refused.location).toBeUndefined();
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.html).toContain("<h1>Too many requests</h1>");
    expect(browser.jar.size).toBe(1); // the browser binding only: no session cookie
    expect(await sessionRows()).toBe(sessionsBefore);
    // The same form from another address goes through.
    const elsewhere = browserAt(nodeB, "198.51.100.60");
    const page = await elsewhere.open(authorizeUrl(authParams(client, challenge)));
    const next = await elsewhere.submit(page, "/login", { login: user.username, password: user.password });
    // Consent for this client was remembered by an earlier test: straight back with a code.
    expect(next.location?.startsWith(`${client.redirect_uri}?code=`)).toBe(true);
    expect(await sessionRows()).toBe(sessionsBefore + 1);
  });
});
