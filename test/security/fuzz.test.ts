// Property-based fuzzing of every mounted route (issue 8 "Hostile input"): random, oversized,
// repeated, malformed and wrongly encoded parameters, headers, JSON and form bodies, unicode and
// control characters, SQL and template injection strings. Routes come from the app itself, so a
// new endpoint is fuzzed without touching this file. Properties: never a 5xx, never a stack trace
// or internal detail, a rejected request echoes no secret and changes no table.
// Seeded and bounded: FUZZ_SEED and FUZZ_RUNS (runs per route) override the defaults.
// Invalid text (issue 12 item 2): NUL bytes, invalid UTF-8 and surrogate encodings sent raw in
// query strings, form bodies, path parameters and Basic credentials, lone surrogates and NUL in
// JSON, and JSON nested far too deep, on every route: each is refused with the route's own error
// shape, and valid requests sent in the same event-loop turn as invalid ones all succeed.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createTestApp } from "../support/app";
import { leaks } from "../reliability/harness";
import { seedFixtures } from "../reliability/harness";

const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);

// app.handle has no socket address: open the admin API's network rule so the fuzz reaches its
// token checks and handlers (the rule itself is tested in http-hardening and admin-authorization).
// Open sign-up (without mail: no verification) so the sign-up form's handler is fuzzed, not its 404.
const t = await createTestApp({ env: { AUTHLY_ADMIN_RATE_LIMIT: "1000000", AUTHLY_MAX_BODY_BYTES: "65536", AUTHLY_ADMIN_API_LOCALHOST_ONLY: "false", AUTHLY_SIGNUP: "open", AUTHLY_SIGNUP_REQUIRE_VERIFIED_EMAIL: "false", AUTHLY_SIGNUP_RATE_LIMIT: "1000000" } });
const f = await seedFixtures(t.deps);
// Path parameters name this user, never the admin whose token the fuzz uses.
const [victim] = await t.db.sql<{ id: string }[]>`INSERT INTO users (username, email) VALUES ('fuzz-victim', 'victim@example.test') RETURNING id`;
const victimId = victim!.id;

// ---- state: checksums of every table a rejected request must not change ---------------------
// Counters and the audit trail legitimately record rejected requests.
const MAY_CHANGE_ON_REJECT = new Set(["rate_limits", "login_failures", "audit_log", "schema_migrations"]);
const tables = (await t.db.sql<{ table_name: string }[]>`
  SELECT table_name FROM information_schema.tables WHERE table_schema = ${t.db.schema} AND table_type = 'BASE TABLE' ORDER BY table_name`)
  .map((r) => r.table_name)
  .filter((n) => !MAY_CHANGE_ON_REJECT.has(n));
const checksumSql = tables.map((n) => `SELECT '${n}' AS t, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM "${n}" x`).join(" UNION ALL ");
async function snapshot(): Promise<Map<string, string>> {
  const rows = await t.db.sql.unsafe<{ t: string; h: string }[]>(checksumSql);
  return new Map(rows.map((r) => [r.t, r.h]));
}
function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  return [...a.keys()].filter((k) => a.get(k) !== b.get(k));
}

// ---- hostile values -------------------------------------------------------------------------
const NASTY = [
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  "1; SELECT pg_sleep(5)--",
  "\" OR \"\"=\"",
  "admin'--",
  "{{7*7}}",
  "${7*7}",
  "#{7*7}",
  "<%= 7*7 %>",
  "<script>alert(1)</script>",
  "\"><img src=x onerror=alert(1)>",
  "javascript:alert(1)",
  "../../../../etc/passwd",
  "%00",
  "\u0000",
  "%E0%A4%A",
  "%zz",
  "\u202Egnp.exe",
  "\uFEFF",
  "\uD800",
  "😀👩‍👩‍👧",
  "__proto__",
  "constructor",
  "{\"$gt\":\"\"}",
  "NaN",
  "-1",
  "1e309",
  "99999999999999999999999",
  "true",
  "null",
  "[]",
  "http://127.0.0.1:1/",
  "https://evil.example/cb",
  "x".repeat(5000),
  " ".repeat(100),
  "\r\nSet-Cookie: x=1",
];
const PARAM_NAMES = [
  "grant_type", "client_id", "client_secret", "code", "redirect_uri", "code_verifier", "refresh_token", "scope", "username",
  "password", "token", "token_type_hint", "response_type", "response_mode", "state", "nonce", "code_challenge",
  "code_challenge_method", "prompt", "max_age", "id_token_hint", "post_logout_redirect_uri", "client_assertion",
  "client_assertion_type", "csrf", "login", "consent", "claims", "request", "ui_locales", "login_hint",
  "client_name", "client_type", "redirect_uris", "grant_types", "token_endpoint_auth_method", "name", "description",
  "is_default", "is_active", "is_admin", "email", "limit", "offset", "q", "include_inactive", "hard",
  "grace_period_seconds", "alg", "current_password", "new_password", "action", "decision",
];
const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials", "password", "urn:ietf:params:oauth:grant-type:jwt-bearer", "implicit"];

const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(...GRANT_TYPES, f.clientId, "authly-cli", f.username, "openid profile", "S256", "plain", "code", "none", "login consent") },
  { weight: 1, arbitrary: fc.integer().map(String) },
);
const paramName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PARAM_NAMES) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) });
/** encodeURIComponent that also takes lone surrogates (as their replacement character). */
const enc = (s: string) => encodeURIComponent(s.toWellFormed());
const params = fc.array(fc.tuple(paramName, text), { maxLength: 8 });

/** A header value the Fetch API accepts (no CR, LF or NUL; Latin-1 only). */
const headerSafe = (s: string) => s.replace(/[\r\n\0]/g, " ").replace(/[^\x09\x20-\x7e\x80-\xff]/g, "?");
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(`Bearer ${f.adminToken}`),
  fc.constant(`Bearer ${f.userToken}`),
  fc.constant(`Basic ${btoa(`${f.clientId}:${f.clientSecret}`)}`),
  text.map((s) => `Bearer ${headerSafe(s)}`),
  text.map((s) => `Basic ${headerSafe(s)}`),
  fc.constant("Basic " + btoa("a:b:c")),
  fc.constant("Basic %%%"),
  fc.constant(`Bearer ${f.adminToken.split(".").slice(0, 2).join(".")}.`),
  fc.constant("Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
  text.map(headerSafe),
);
const contentType = fc.oneof(
  fc.constant("application/x-www-form-urlencoded"),
  fc.constant("application/json"),
  fc.constant(undefined),
  fc.constant("text/plain"),
  fc.constant("multipart/form-data; boundary=x"),
  fc.constant("application/json; charset=utf-16"),
  fc.constant("application/x-www-form-urlencoded; charset=ISO-8859-1"),
  text.map(headerSafe),
);
const extraHeaders = fc.dictionary(
  fc.constantFrom("cookie", "x-forwarded-for", "x-forwarded-proto", "origin", "accept", "accept-language", "user-agent", "referer", "if-none-match", "x-request-id", "host-x", "dpop"),
  text.map(headerSafe),
  { maxKeys: 4 },
);

/** Near-valid parameters per route: the fuzz mutates these so that it gets past the first check. */
const TEMPLATES: Record<string, Record<string, string>[]> = {
  "POST /oauth/token": [
    { grant_type: "client_credentials", scope: "api:read" },
    { grant_type: "refresh_token", refresh_token: "rt-unknown-0123456789" },
    { grant_type: "authorization_code", code: "code-unknown-0123456789", redirect_uri: "http://127.0.0.1/cb", code_verifier: "v".repeat(43) },
    { grant_type: "password", client_id: "authly-cli", username: f.username, password: "wrong-password-123", scope: "admin:system:read" },
  ],
  "POST /oauth/introspect": [{ token: f.userToken }, { token: f.adminToken, token_type_hint: "access_token" }, { token: "rt-unknown", token_type_hint: "refresh_token" }],
  "POST /oauth/revoke": [{ token: "rt-unknown-0123456789", token_type_hint: "refresh_token" }, { token: "not-a-token" }],
  "GET /oauth/authorize": [{ client_id: f.clientId, redirect_uri: "http://127.0.0.1/cb", response_type: "code", scope: "openid profile", state: "s", nonce: "n", code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method: "S256" }],
  "POST /admin/clients": [{ client_name: "fuzz", client_type: "confidential", redirect_uris: "https://rp.example/cb", scope: "openid" }],
  "POST /admin/users": [{ username: "fuzz-user", email: "fuzz@example.test", password: "a-long-password-1" }],
  "POST /admin/scopes": [{ name: "fuzz:scope", description: "fuzz" }],
  "POST /admin/me/password": [{ current_password: "wrong-password-123", new_password: "another-long-password-1" }],
};
TEMPLATES["POST /oauth/authorize"] = TEMPLATES["GET /oauth/authorize"]!;
// RFC 9126: the pushed request is the authorization request, with client authentication.
TEMPLATES["POST /oauth/par"] = TEMPLATES["GET /oauth/authorize"]!;
TEMPLATES["PATCH /admin/clients/:client_id"] = TEMPLATES["POST /admin/clients"]!;
TEMPLATES["PATCH /admin/users/:id"] = TEMPLATES["POST /admin/users"]!;
TEMPLATES["POST /admin/users/:id/reset-password"] = [{ password: "a-long-password-2" }];

/** A template with random parameters replacing, adding or dropping some of its values. */
function mutated(templates: Record<string, string>[]): fc.Arbitrary<[string, string][]> {
  const none = fc.constant([] as never[]);
  return fc.record({
    base: fc.constantFrom(...templates),
    drop: fc.oneof(none, fc.array(fc.constantFrom(...PARAM_NAMES), { maxLength: 2 })),
    changes: fc.oneof(none, fc.array(fc.tuple(paramName, text), { maxLength: 3 })),
  }).map(({ base, drop, changes }) => {
    const m = new Map(Object.entries(base));
    for (const d of drop) m.delete(d);
    for (const [k, v] of changes) m.set(k, v);
    return [...m];
  });
}

type Body = { kind: "none" } | { kind: "form"; value: string } | { kind: "json"; value: string } | { kind: "bytes"; value: Uint8Array };
const genericBody: fc.Arbitrary<Body> = fc.oneof(
  fc.constant({ kind: "none" } as Body),
  params.map((p) => ({ kind: "form", value: p.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&") }) as Body),
  // Repeated and raw (not percent-encoded) parameters.
  params.map((p) => ({ kind: "form", value: [...p, ...p].map(([k, v]) => `${k}=${v}`).join("&") }) as Body),
  fc.dictionary(paramName, fc.oneof(text, fc.jsonValue({ maxDepth: 3 }), fc.array(text, { maxLength: 3 }))).map((o) => ({ kind: "json", value: JSON.stringify(o) }) as Body),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ kind: "json", value: JSON.stringify(v) }) as Body),
  fc.constantFrom("{", "{\"a\":", "[1,2", "{\"__proto__\":{\"is_admin\":true}}", "\u0000", "null", "{\"a\":1,\"a\":2}").map((v) => ({ kind: "json", value: v }) as Body),
  fc.uint8Array({ maxLength: 300 }).map((v) => ({ kind: "bytes", value: v }) as Body),
  fc.constant({ kind: "bytes", value: new Uint8Array([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc]) } as Body),
  fc.constant({ kind: "form", value: "a=" + "%41".repeat(15000) } as Body),
);

interface Route {
  method: string;
  path: string;
}

function bodyFor(route: Route): fc.Arbitrary<Body> {
  const templates = TEMPLATES[`${route.method} ${route.path}`];
  if (!templates) return genericBody;
  const near = mutated(templates);
  return fc.oneof(
    { weight: 2, arbitrary: genericBody },
    { weight: 3, arbitrary: near.map((p) => ({ kind: "form", value: p.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&") }) as Body) },
    { weight: 3, arbitrary: near.map((p) => ({ kind: "json", value: JSON.stringify(Object.fromEntries(p.map(([k, v]) => [k, k.endsWith("_uris") ? [v] : v]))) }) as Body) },
  );
}
const routes: Route[] = t.app.routes
  .map((r) => ({ method: r.method.toUpperCase(), path: r.path }))
  .filter((r) => r.method !== "ALL" && !r.path.includes("*"));

function fillPath(path: string, values: string[]): string {
  let i = 0;
  return path.replace(/:[A-Za-z_]+/g, () => {
    const v = values[i++ % Math.max(1, values.length)] ?? "x";
    return enc(v);
  });
}

interface Case {
  method: string;
  path: string;
  query: [string, string][];
  /** Appended to the query string as it is (not percent-encoded again): carries invalid escapes. */
  rawQuery?: string;
  authorization?: string;
  contentType?: string;
  headers: Record<string, string>;
  body: Body;
}

/** Mostly valid credentials where a route needs them, so that the fuzz reaches the handler. */
function authorizationFor(route: Route): fc.Arbitrary<string | undefined> {
  if (route.path.startsWith("/admin")) return fc.oneof({ weight: 1, arbitrary: authorization }, { weight: 1, arbitrary: fc.constant(`Bearer ${f.adminToken}`) });
  if (/^\/oauth\/(token|introspect|revoke|par)$/.test(route.path)) return fc.oneof({ weight: 1, arbitrary: authorization }, { weight: 1, arbitrary: fc.constant(`Basic ${btoa(`${f.clientId}:${f.clientSecret}`)}`) });
  if (route.path === "/oidc/userinfo") return fc.oneof({ weight: 1, arbitrary: authorization }, { weight: 1, arbitrary: fc.constant(`Bearer ${f.userToken}`) });
  return authorization;
}

function caseFor(route: Route): fc.Arbitrary<Case> {
  const templates = TEMPLATES[`${route.method} ${route.path}`];
  const query = route.method === "GET" && templates ? fc.oneof(params, mutated(templates)) : params;
  return fc.record({
    method: fc.oneof({ weight: 9, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD") }),
    path: fc.array(fc.oneof(text, fc.constant(victimId), fc.constant(f.clientId), fc.constant("openid"), fc.constant("api:read")), { minLength: 1, maxLength: 3 }).map((v) => fillPath(route.path, v)),
    query,
    authorization: authorizationFor(route),
    contentType: templates ? fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: contentType }) : contentType,
    headers: extraHeaders,
    body: bodyFor(route),
  });
}

const SECRET_FIELDS = ["password", "client_secret", "new_password", "current_password", "refresh_token", "code", "code_verifier", "client_assertion"];

/** Secret values the request carried (long enough to be recognisable if echoed). */
function secretsIn(c: Case): string[] {
  const out: string[] = [];
  const add = (k: string, v: unknown) => {
    if (SECRET_FIELDS.includes(k) && typeof v === "string" && v.length >= 12 && /[A-Za-z0-9]{6}/.test(v)) out.push(v);
  };
  for (const [k, v] of c.query) add(k, v);
  if (c.body.kind === "form") for (const [k, v] of new URLSearchParams(c.body.value)) add(k, v);
  if (c.body.kind === "json") {
    try {
      const o = JSON.parse(c.body.value);
      if (o && typeof o === "object") for (const [k, v] of Object.entries(o)) add(k, v);
    } catch {
      // not JSON
    }
  }
  return out;
}

function toRequest(c: Case): Request {
  const parsed = new URL(c.path, "http://localhost");
  for (const [k, v] of c.query) parsed.searchParams.append(k, v);
  const url = c.rawQuery ? `${parsed.href}${parsed.search ? "&" : "?"}${c.rawQuery}` : parsed.href;
  const headers = new Headers();
  for (const [k, v] of Object.entries(c.headers)) headers.set(k, v);
  if (c.authorization !== undefined) headers.set("authorization", c.authorization);
  if (c.contentType !== undefined) headers.set("content-type", c.contentType);
  else if (c.body.kind === "form") headers.set("content-type", "application/x-www-form-urlencoded");
  else if (c.body.kind === "json") headers.set("content-type", "application/json");
  const hasBody = !["GET", "HEAD"].includes(c.method) && c.body.kind !== "none";
  return new Request(url, { method: c.method, headers, body: hasBody ? ((c.body as { value: string | Uint8Array }).value as BodyInit) : undefined });
}

/** Status counts per route: shows how deep the fuzz got (past authentication, into handlers). */
export const statuses = new Map<string, Map<number, number>>();

interface Finding {
  route: string;
  problem: string;
  status: number;
  request: string;
  body: string;
}

/** Front-channel routes answer with pages and redirects; every other 4xx is a JSON error object. */
const PAGE_ROUTES = /^\/(oauth\/authorize|interaction|oidc\/logout|device(\/|$)|federation\/|password\/|email\/(verify|change)|signup)/;

/** The error shape of `route`: a JSON object with a string `error` (and OAuth's error_description
 *  on the protocol endpoints), or an HTML page on the front channel. */
function shapeProblem(route: Route, res: Response, text: string): string | undefined {
  if (res.status < 400 || res.status === 503) return undefined;
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("text/html")) return PAGE_ROUTES.test(route.path) ? undefined : `HTML error from a JSON endpoint (${res.status})`;
  let body: { error?: unknown; error_description?: unknown };
  try {
    body = JSON.parse(text);
  } catch {
    return `error ${res.status} is neither JSON nor a page`;
  }
  if (typeof body?.error !== "string") return `error ${res.status} has no error code`;
  if (/^\/(oauth|oidc)\//.test(route.path) && typeof body.error_description !== "string") return `OAuth error ${res.status} has no error_description`;
  return undefined;
}

async function check(route: Route, c: Case, findings: Finding[], opts: { mustReject?: boolean } = {}): Promise<void> {
  let req: Request;
  try {
    req = toRequest(c);
  } catch {
    return; // the Fetch API refused to build it (e.g. an invalid URL); nothing reaches the server
  }
  const before = await snapshot();
  const res = await t.app.handle(req);
  const text = await res.text();
  const key = `${route.method} ${route.path}`;
  const byStatus = statuses.get(key) ?? new Map<number, number>();
  byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
  statuses.set(key, byStatus);
  if (process.env.FUZZ_TRACE && key === process.env.FUZZ_TRACE) console.log(res.status, JSON.stringify(c).slice(0, 400), text.slice(0, 200));
  const rejected = res.status >= 400 || /[?&#]error=/.test(res.headers.get("location") ?? "");
  const problems: string[] = [];
  if (res.status >= 500 && res.status !== 503) problems.push(`status ${res.status}`);
  const leak = leaks(text);
  if (leak) problems.push(`internal detail in body (${leak})`);
  if ((res.headers.get("content-type") ?? "").includes("json") && text) {
    try {
      JSON.parse(text);
    } catch {
      problems.push("invalid JSON body");
    }
  }
  const shape = shapeProblem(route, res, text);
  if (shape) problems.push(shape);
  if (opts.mustReject && !rejected) problems.push(`invalid text accepted (${res.status})`);
  if (rejected) {
    for (const s of secretsIn(c)) if (text.includes(s)) problems.push("a submitted secret is echoed back");
    const diff = changed(before, await snapshot());
    if (diff.length) problems.push(`rejected request changed ${diff.join(", ")}`);
  }
  if (problems.length) {
    findings.push({ route: `${route.method} ${route.path}`, problem: problems.join("; "), status: res.status, request: JSON.stringify({ ...c, body: c.body.kind === "bytes" ? "<bytes>" : c.body }).slice(0, 600), body: text.slice(0, 300) });
  }
}

describe("fuzzing every route", () => {
  test("the app mounts the protocol, front-channel and admin routes this suite is meant to cover", () => {
    const names = new Set(routes.map((r) => `${r.method} ${r.path}`));
    expect(routes.length).toBeGreaterThan(10);
    for (const must of ["GET /health", "POST /oauth/token"]) expect(names.has(must)).toBe(true);
  });

  for (const route of routes) {
    test(`${route.method} ${route.path}: no 5xx, no leak, no secret echoed, no state change when rejected`, async () => {
      const findings: Finding[] = [];
      await fc.assert(
        fc.asyncProperty(caseFor(route), async (c) => {
          await check(route, c, findings);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      expect(findings).toEqual([]);
    }, 60_000);
  }

  test("random paths and methods: 404/405 JSON, never a 5xx", async () => {
    const findings: Finding[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(text, fc.constantFrom("admin", "oauth", "oidc", ".well-known", "interaction", "..", "%2e%2e", "%00", "health")), { minLength: 1, maxLength: 5 }),
        fc.constantFrom("GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "HEAD", "TRACE"),
        async (segments, method) => {
          const path = "/" + segments.map(enc).join("/");
          await check({ method, path }, { method, path, query: [], headers: {}, body: { kind: "none" } }, findings);
        },
      ),
      { seed: SEED, numRuns: RUNS * 10 },
    );
    expect(findings).toEqual([]);
  }, 60_000);
});

// ---- invalid text (issue 12 item 2) ------------------------------------------------------------
/** Escapes that are not text once decoded: NUL, invalid UTF-8, an encoded surrogate, overlong, cut short. */
const RAW_BAD = ["%00", "x%00y", "%C3%28", "%FF", "%ED%A0%80", "%C0%AF", "%E0%A4%A", "%F4%90%80%80"];
/** JSON values (as JSON text) that are not text, and nesting far past any bound. */
const JSON_BAD = [`"a\\u0000b"`, `"\\ud800"`, `"x\\udfff"`, `{"k\\u0000":1}`, `${"[".repeat(30_000)}${"]".repeat(30_000)}`, `${"{\"a\":".repeat(5_000)}1${"}".repeat(5_000)}`];
const rawBad = fc.constantFrom(...RAW_BAD);

type BadWhere = "query" | "form" | "json" | "path" | "basic" | "form-bytes";

/** A near-valid request for the route with one value that is not text, and where it was put. */
function badCaseFor(route: Route): fc.Arbitrary<{ c: Case; where: BadWhere }> {
  const templates = TEMPLATES[`${route.method} ${route.path}`] ?? [{ client_id: f.clientId, token: f.userToken, name: "fuzz" }];
  const hasParam = /:[A-Za-z_]+/.test(route.path);
  const wheres: BadWhere[] = ["query", "form", "json", "basic", "form-bytes", ...(hasParam ? (["path"] as const) : [])];
  return fc.record({
    where: fc.constantFrom(...wheres),
    base: fc.constantFrom(...templates),
    name: fc.oneof(fc.constantFrom(...PARAM_NAMES), fc.constant("")),
    bad: rawBad,
    json: fc.constantFrom(...JSON_BAD),
    authorization: authorizationFor(route),
  }).map(({ where, base, name, bad, json, authorization: auth }) => {
    const entries = Object.entries(base);
    const key = name || entries[0]?.[0] || "x";
    const encoded = entries.filter(([k]) => k !== key).map(([k, v]) => `${enc(k)}=${enc(v)}`);
    const c: Case = { method: route.method, path: fillPath(route.path, [victimId]), query: [], authorization: auth, headers: {}, body: { kind: "none" } };
    if (where === "query") c.rawQuery = [...encoded, `${enc(key)}=${bad}`].join("&");
    if (where === "form") c.body = { kind: "form", value: [...encoded, `${enc(key)}=${bad}`].join("&") };
    if (where === "form-bytes") {
      const head = new TextEncoder().encode([...encoded, `${enc(key)}=`].join("&"));
      c.body = { kind: "bytes", value: new Uint8Array([...head, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xff]) };
      c.contentType = "application/x-www-form-urlencoded";
    }
    if (where === "json") {
      const members = entries.filter(([k]) => k !== key).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(k.endsWith("_uris") ? [v] : v)}`);
      c.body = { kind: "json", value: `{${[...members, `${JSON.stringify(key)}:${json}`].join(",")}}` };
    }
    if (where === "path") c.path = route.path.replace(/:[A-Za-z_]+/g, () => bad);
    if (where === "basic") {
      c.authorization = `Basic ${btoa(`${f.clientId}${bad}:${f.clientSecret}`)}`;
      c.body = { kind: "form", value: encoded.join("&") };
    }
    if (c.method === "GET" && c.body.kind !== "none" && where !== "query") c.rawQuery = where === "path" ? undefined : [...encoded, `${enc(key)}=${bad}`].join("&");
    return { c, where };
  });
}

/** Whether the route reads the input that carries the invalid text (so it must refuse the request). */
function readsInput(route: Route, where: BadWhere, c: Case): boolean {
  const key = `${route.method} ${route.path}`;
  if (where === "path") return route.path.startsWith("/admin/");
  if (route.path.startsWith("/admin/")) {
    if (!TEMPLATES[key] && where !== "query") return false;
    if (where === "basic" || where === "form" || where === "form-bytes") return false; // admin bodies are JSON
    if (route.path === "/admin/openapi.json" || route.path === "/admin/docs" || route.path.startsWith("/admin/docs/")) return false; // they read no input (the docs page and its two embedded files)
    return c.authorization === `Bearer ${f.adminToken}` && (where === "query" || ["POST", "PATCH"].includes(route.method));
  }
  if (/^\/oauth\/(token|introspect|revoke|par)$/.test(route.path)) return where === "form" || where === "form-bytes" || where === "basic";
  if (route.path === "/oauth/authorize") return route.method === "GET" ? where === "query" : where === "form" || where === "form-bytes";
  return false;
}

describe("fuzzing every route with invalid text: NUL, invalid UTF-8, lone surrogates, deep JSON", () => {
  for (const route of routes) {
    test(`${route.method} ${route.path}: refused with the route's own error shape, no 5xx, no leak, no state change`, async () => {
      const findings: Finding[] = [];
      await fc.assert(
        fc.asyncProperty(badCaseFor(route), async ({ c, where }) => {
          await check(route, c, findings, { mustReject: readsInput(route, where, c) });
        }),
        { seed: SEED, numRuns: Math.max(10, Math.ceil(RUNS / 2)), endOnFailure: true },
      );
      expect(findings).toEqual([]);
    }, 60_000);
  }

  test("valid token and introspection requests interleaved in one event-loop turn with invalid ones all succeed", async () => {
    // A client of its own: the admin fuzz above may have regenerated or deactivated the shared one.
    const f = await seedFixtures(t.deps);
    const basicAuth = `Basic ${btoa(`${f.clientId}:${f.clientSecret}`)}`;
    const form = (body: string | Uint8Array, authorization?: string) =>
      new Request("http://localhost/oauth/token", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...(authorization ? { authorization } : {}) }, body: body as BodyInit });
    const goodToken = () => form("grant_type=client_credentials&scope=api:read", basicAuth);
    const goodIntrospect = () => new Request("http://localhost/oauth/introspect", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basicAuth }, body: `token=${f.userToken}` });
    const badOnes = fc.sample(
      fc.oneof(
        rawBad.map((b) => form(`grant_type=client_credentials&client_id=${f.clientId}${b}&client_secret=${f.clientSecret}`)),
        rawBad.map((b) => form(`grant_type=client_credentials&scope=${b}`, basicAuth)),
        rawBad.map((b) => form("grant_type=client_credentials", `Basic ${btoa(`${f.clientId}${b}:x`)}`)),
        rawBad.map((b) => new Request("http://localhost/oauth/introspect", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", authorization: basicAuth }, body: `token=${b}` })),
        fc.constant(null).map(() => form(new Uint8Array([0x61, 0x3d, 0xff]), basicAuth)),
      ),
      { seed: SEED, numRuns: 60 },
    );
    const kinds: ("token" | "introspect" | "bad")[] = [];
    const requests: Request[] = [];
    badOnes.forEach((bad, i) => {
      requests.push(i % 2 ? goodIntrospect() : goodToken(), bad);
      kinds.push(i % 2 ? "introspect" : "token", "bad");
    });
    // All handed to the app in the same turn, so their client lookups share micro-batches.
    const responses = await Promise.all(requests.map((r) => t.app.handle(r)));
    const outcome = await Promise.all(responses.map(async (r, i) => ({ kind: kinds[i]!, status: r.status, body: await r.json() })));
    const wrong = outcome.filter((o) =>
      o.kind === "token" ? !(o.status === 200 && typeof o.body.access_token === "string")
      : o.kind === "introspect" ? !(o.status === 200 && o.body.active === true)
      : !([400, 401].includes(o.status) && ["invalid_request", "invalid_client"].includes(o.body.error)));
    expect(wrong).toEqual([]);
  }, 60_000);
});

if (process.env.FUZZ_REPORT) {
  const { afterAll } = await import("bun:test");
  afterAll(() => {
    for (const [route, m] of statuses) if (routes.some((r) => `${r.method} ${r.path}` === route)) console.log(route.padEnd(50), [...m].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(" "));
  });
}
