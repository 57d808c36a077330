import { describe, expect, test } from "bun:test";
import { loadConfig } from "./config";
import { ConfigError } from "./errors";

const base = { DATABASE_URL: "postgresql://u:p@localhost:5432/db", JWT_SECRET_KEY: "k".repeat(40), JWT_REFRESH_SECRET_KEY: "r".repeat(40) };

describe("configuration", () => {
  test("defaults: port 8000, issuer from host and port, production mode", () => {
    const c = loadConfig(base, { purpose: "server" });
    expect(c.port).toBe(8000);
    expect(c.issuer).toBe("http://localhost:8000");
    expect(c.mode.mode).toBe("production");
    expect(c.mode.pool).toEqual({ min: 5, max: 20, connectTimeout: 30, idleTimeout: 300 });
  });

  test("self sign-up: off by default, verified address required, 10 posts an hour; a bad mode is named", () => {
    const c = loadConfig(base, { purpose: "server" });
    expect([c.signup, c.signupRequireVerifiedEmail, c.signupRateLimitPerHour]).toEqual(["off", true, 10]);
    const o = loadConfig({ ...base, AUTHLY_SIGNUP: "invite", AUTHLY_SIGNUP_REQUIRE_VERIFIED_EMAIL: "false", AUTHLY_SIGNUP_RATE_LIMIT: "3" }, { purpose: "server" });
    expect([o.signup, o.signupRequireVerifiedEmail, o.signupRateLimitPerHour]).toEqual(["invite", false, 3]);
    expect(() => loadConfig({ ...base, AUTHLY_SIGNUP: "everyone" }, { purpose: "server" })).toThrow("AUTHLY_SIGNUP: 'everyone' is not a sign-up mode (off, open or invite)");
    expect(() => loadConfig({ ...base, AUTHLY_SIGNUP_RATE_LIMIT: "0" }, { purpose: "server" })).toThrow("AUTHLY_SIGNUP_RATE_LIMIT");
  });

  test("every problem is listed at once and secrets are never shown", () => {
    const secret = "short-secret-value";
    let err: ConfigError | undefined;
    try {
      loadConfig({ JWT_SECRET_KEY: secret, AUTHLY_PORT: "eighty", AUTHLY_MODE: "turbo", AUTHLY_DEV_MODE: "maybe", AUTHLY_LOG_LEVEL: "loud" }, { purpose: "server" });
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = err!.message;
    for (const name of ["DATABASE_URL", "JWT_SECRET_KEY", "JWT_REFRESH_SECRET_KEY", "AUTHLY_PORT", "AUTHLY_MODE", "AUTHLY_DEV_MODE", "AUTHLY_LOG_LEVEL"]) {
      expect(text).toContain(name);
    }
    expect(text).not.toContain(secret);
    expect(err!.problems.length).toBe(7);
  });

  test("the issuer can be set and must be an http(s) URL without query or fragment", () => {
    expect(loadConfig({ ...base, AUTHLY_ISSUER: "https://auth.example.com" }, { purpose: "server" }).issuer).toBe("https://auth.example.com");
    expect(() => loadConfig({ ...base, AUTHLY_ISSUER: "https://auth.example.com/#x" }, { purpose: "server" })).toThrow(ConfigError);
  });

  test("the CLI needs neither a database nor secrets", () => {
    const c = loadConfig({}, { purpose: "cli", impliedMode: "cli" });
    expect(c.mode.mode).toBe("cli");
    expect(c.adminApiUrl).toBe("http://localhost:8000");
  });

  test("AUTHLY_AUTHORIZE_RATE_LIMIT: 120 per source address and minute by default, a whole number of at least 1", () => {
    expect(loadConfig(base, { purpose: "server" }).authorizeRateLimitPerMinute).toBe(120);
    expect(loadConfig({ ...base, AUTHLY_AUTHORIZE_RATE_LIMIT: "10" }, { purpose: "server" }).authorizeRateLimitPerMinute).toBe(10);
    for (const bad of ["0", "-1", "ten", "1.5"]) {
      expect(() => loadConfig({ ...base, AUTHLY_AUTHORIZE_RATE_LIMIT: bad }, { purpose: "server" })).toThrow("AUTHLY_AUTHORIZE_RATE_LIMIT");
    }
  });

  test("AUTHLY_MODE wins over the mode a command implies", () => {
    expect(loadConfig({ AUTHLY_MODE: "prod" }, { purpose: "cli", impliedMode: "cli" }).mode.mode).toBe("production");
  });
});
