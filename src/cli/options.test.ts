// "Did you mean": the suggestion for a mistyped option or command name.
import { describe, expect, test } from "bun:test";
import { editDistance, suggest } from "./options";

describe("suggest", () => {
  test("a typo, a transposition, a missing letter and a prefix find the name; an unrelated word finds none", () => {
    expect(suggest("wrokers", ["workers", "port", "host"])).toBe("workers");
    expect(suggest("shwo", ["show", "list", "create"])).toBe("show");
    expect(suggest("embeded", ["embedded", "seed"])).toBe("embedded");
    expect(suggest("regen", ["regenerate-secret", "delete"])).toBe("regenerate-secret");
    expect(suggest("nosuch", ["show", "list", "create"])).toBeUndefined();
    expect(editDistance("abc", "abc")).toBe(0);
  });
});
