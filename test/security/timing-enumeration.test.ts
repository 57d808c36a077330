// Timing and enumeration (issue 8): secrets are compared in constant time, and a login with an
// unknown user does the same work as one with a wrong password (one argon2id verification, against
// a dummy hash with the configured parameters) and gets the same answer. The mechanism is tested,
// not wall-clock ratios (those flake on a shared 2-core machine).
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { AuthenticationError, authenticateUser } from "../../src/accounts/authenticate";
import { safeEqual } from "../../src/lib/crypto";
import { createTestApp } from "../support/app";
import { createOidcUser } from "../support/oidc-fixtures";
import { ROOT } from "../support/process";

const t = await createTestApp({ env: { AUTHLY_LOGIN_MAX_FAILURES: "1000" } });

/** Records the hashes Bun.password.verify is asked to check, for the duration of `fn`. */
const realVerify = Bun.password.verify;
async function recordVerifications(fn: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  (Bun.password as { verify: typeof realVerify }).verify = (async (password: string, hash: string, ...rest: unknown[]) => {
    seen.push(hash);
    return (realVerify as (...a: unknown[]) => Promise<boolean>).call(Bun.password, password, hash, ...rest);
  }) as typeof realVerify;
  try {
    await fn().catch((e) => {
      if (!(e instanceof AuthenticationError)) throw e;
    });
  } finally {
    (Bun.password as { verify: typeof realVerify }).verify = realVerify;
  }
  return seen;
}
afterEach(() => {
  (Bun.password as { verify: typeof realVerify }).verify = realVerify;
});

/** "$argon2id$v=19$m=19456,t=2,p=1$" of a PHC string: what decides the cost of a verification. */
const costOf = (hash: string) => /^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$/.exec(hash)?.[0];

describe("login costs the same whether or not the user exists", () => {
  test("unknown user, wrong password, inactive user and empty login each run exactly one argon2id verification of the same cost", async () => {
    const user = await createOidcUser(t.deps, { username: "timing-user" });
    const inactive = await createOidcUser(t.deps, { username: "timing-inactive", is_active: false });
    const ip = "198.51.100.20";
    const unknown = await recordVerifications(() => authenticateUser(t.deps, { login: "no-such-user-anywhere", password: "whatever-123", ip }));
    const wrong = await recordVerifications(() => authenticateUser(t.deps, { login: user.username, password: "wrong-password-123", ip }));
    const off = await recordVerifications(() => authenticateUser(t.deps, { login: inactive.username, password: inactive.password, ip }));
    const empty = await recordVerifications(() => authenticateUser(t.deps, { login: "", password: "x", ip }));
    const right = await recordVerifications(() => authenticateUser(t.deps, { login: user.username, password: user.password, ip }));
    for (const calls of [unknown, wrong, off, empty, right]) expect(calls.length).toBe(1);
    const cost = costOf(wrong[0]!);
    expect(cost).toBeDefined();
    expect(costOf(unknown[0]!)).toBe(cost);
    expect(costOf(empty[0]!)).toBe(cost);
    expect(costOf(off[0]!)).toBe(cost);
    // The dummy is not the user's hash (it must never verify a real password).
    expect(unknown[0]).not.toBe(wrong[0]);
  });

  test("the token endpoint answers an unknown user and a wrong password identically (no enumeration)", async () => {
    const user = await createOidcUser(t.deps, { username: "enum-user" });
    const ask = async (username: string) => {
      const r = await t.request("/oauth/token", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "password", client_id: "authly-cli", username, password: "wrong-password-123", scope: "admin:system:read" }).toString(),
      });
      return { status: r.status, body: await r.json(), www: r.headers.get("www-authenticate") };
    };
    const unknown = await ask("enum-nobody");
    const wrong = await ask(user.username);
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    expect(unknown).toEqual(wrong);
  });
});

describe("constant-time comparison of secrets", () => {
  test("safeEqual compares correctly, including different lengths and non-ASCII", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "")).toBe(true);
    expect(safeEqual("é", "e\u0301")).toBe(false);
    expect(safeEqual("🔑", "🔑")).toBe(true);
  });

  test("safeEqual always runs crypto.timingSafeEqual, also when the lengths differ", () => {
    const src = readFileSync(join(ROOT, "src/lib/crypto.ts"), "utf8");
    const body = /export function safeEqual\([^)]*\)[^{]*\{([\s\S]*?)\n\}/.exec(src)?.[1];
    expect(body).toBeDefined();
    const lengthBranch = /if \([^)]*length[^)]*\) \{([\s\S]*?)\}/.exec(body!)?.[1];
    expect(lengthBranch).toBeDefined();
    expect(lengthBranch).toContain("timingSafeEqual(");
    expect(body!.match(/timingSafeEqual\(/g)?.length).toBeGreaterThanOrEqual(2);
  });

  test("no secret, hash, CSRF token or PKCE value is compared with === or !== anywhere in src/", () => {
    const SECRETISH = /(secret|password_hash|secret_hash|token_hash|code_hash|csrf|Csrf|verifier|challenge|browserHash|metricsToken)\b/;
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) {
          readFileSync(p, "utf8").split("\n").forEach((line, i) => {
            for (const m of line.matchAll(/([\w.$[\]"']+)\s*(===|!==)\s*([\w.$[\]"']+)/g)) {
              const [, a, , b] = m;
              if (/^(undefined|null|true|false|\d+|"[^"]*"|'[^']*')$/.test(b!) || /^(undefined|null|"[^"]*"|'[^']*')$/.test(a!)) continue;
              if (/\.length$|typeof|method|Method|\.alg$|kind$|type$/.test(a!) || /\.length$|method|Method/.test(b!)) continue;
              if (SECRETISH.test(a!) || SECRETISH.test(b!)) offenders.push(`${relative(ROOT, p)}:${i + 1}: ${line.trim()}`);
            }
          });
        }
      }
    };
    walk(join(ROOT, "src"));
    expect(offenders).toEqual([]);
  });
});
