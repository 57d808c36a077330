import { describe, expect, test } from "bun:test";
import { detectMode, parseMode, POOL_SETTINGS } from "./modes";

describe("modes (CLI guide: Mode Aliases Supported)", () => {
  test.each([
    ["cli", "cli"], ["admin", "cli"],
    ["production", "production"], ["prod", "production"],
    ["embedded", "embedded"], ["embed", "embedded"], ["dev", "embedded"], ["development", "embedded"],
    ["testing", "testing"], ["test", "testing"], [" PROD ", "production"],
  ])("%s -> %s", (alias, mode) => {
    expect(parseMode(alias)).toBe(mode as never);
  });

  test("unknown names are not modes", () => {
    expect(parseMode("turbo")).toBeUndefined();
  });

  test("pool settings follow the guide's table", () => {
    expect(POOL_SETTINGS.cli).toEqual({ min: 1, max: 3, connectTimeout: 10, idleTimeout: 60 });
    expect(POOL_SETTINGS.production).toEqual({ min: 5, max: 20, connectTimeout: 30, idleTimeout: 300 });
    expect(POOL_SETTINGS.embedded).toEqual({ min: 2, max: 8, connectTimeout: 15, idleTimeout: 180 });
  });

  test("bootstrap per mode: embedded always, production from the environment, cli never", () => {
    expect(detectMode("embedded").bootstrap).toBe("always");
    expect(detectMode("production").bootstrap).toBe("environment");
    expect(detectMode("cli").bootstrap).toBe("never");
    expect(detectMode(undefined, "cli")).toMatchObject({ mode: "cli", source: "command" });
    expect(detectMode(undefined)).toMatchObject({ mode: "production", source: "default" });
  });
});
