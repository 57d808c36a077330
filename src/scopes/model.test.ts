import { describe, expect, test } from "bun:test";
import { scopeNameProblem, splitScope } from "./model";

describe("scope names (RFC 6749 §3.3 scope-token)", () => {
  test("allows %x21 / %x23-5B / %x5D-7E", () => {
    for (const name of ["openid", "admin:clients:read", "https://api.example/read", "a!#$%&'()*+,-./:;<=>?@[]^_`{|}~"]) expect(scopeNameProblem(name)).toBeUndefined();
  });
  test("rejects space, double quote, backslash, non-ASCII, empty and overlong names", () => {
    for (const name of ["a b", 'a"b', "a\\b", "café", "tab\there", "", "x".repeat(129)]) expect(scopeNameProblem(name)).toBeDefined();
  });
  test("splitScope drops empty parts and duplicates, keeping order", () => {
    expect(splitScope("  openid  profile openid ")).toEqual(["openid", "profile"]);
    expect(splitScope("")).toEqual([]);
  });
});
