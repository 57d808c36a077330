// Repeatable options (citty keeps only the last value) and the unknown-option check.
import { describe, expect, test } from "bun:test";
import { checkOptions, collect, collectWords, flagPair } from "./shared";

describe("repeatable options", () => {
  test("collect keeps every value in order, both --x v and --x=v", () => {
    expect(collect(["--redirect-uri", "a", "--name", "n", "--redirect-uri=b", "--redirect-uri", "c"], "redirect-uri")).toEqual(["a", "b", "c"]);
    expect(collect(["--redirect-uri", "a", "--", "--redirect-uri", "b"], "redirect-uri")).toEqual(["a"]);
  });

  test("--scope repeated or space-separated (or both), without duplicates", () => {
    expect(collectWords(["--scope", "read write", "--scope", "admin", "--scope=read"], "scope")).toEqual(["read", "write", "admin"]);
  });

  test("a repeatable option without a value is a validation error", () => {
    expect(() => collect(["--contacts"], "contacts")).toThrow("--contacts needs a value");
  });

  test("flag pairs: on, off, neither, both (error)", () => {
    expect(flagPair(["--activate"], "activate", "deactivate")).toBe(true);
    expect(flagPair(["--deactivate"], "activate", "deactivate")).toBe(false);
    expect(flagPair([], "activate", "deactivate")).toBeUndefined();
    expect(() => flagPair(["--activate", "--deactivate"], "activate", "deactivate")).toThrow("cannot be used together");
  });
});

describe("checkOptions", () => {
  const args = {
    id: { type: "positional" as const, required: true },
    name: { type: "string" as const },
    verbose: { type: "boolean" as const, alias: "v" },
    output: { type: "enum" as const, options: ["table", "json"] },
  };
  test("accepts known options, values that look like options, aliases and --no-", () => {
    expect(() => checkOptions(["abc", "--name", "--weird", "-v", "--no-verbose", "--output=json"], args)).not.toThrow();
  });
  test("refuses an unknown option, an extra argument, a missing value", () => {
    expect(() => checkOptions(["abc", "--nme", "x"], args)).toThrow("Unknown option: --nme");
    expect(() => checkOptions(["abc", "def"], args)).toThrow("Unexpected argument: def");
    expect(() => checkOptions(["abc", "--name"], args)).toThrow("--name needs a value");
  });
  test("a value that starts with '-' (a key id, say): the error says to put it after --, where it is taken", () => {
    let hint = "";
    try {
      checkOptions(["-fuM_yp", "--name", "x"], args);
    } catch (err) {
      hint = (err as { detail?: string }).detail ?? "";
    }
    expect(hint).toContain('put it after "--": ... -- -fuM_yp');
    expect(() => checkOptions(["--name", "x", "--", "-fuM_yp"], args)).not.toThrow();
  });
});
