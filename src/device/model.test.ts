import { describe, expect, test } from "bun:test";
import { formatUserCode, generateUserCode, normaliseUserCode, USER_CODE_ALPHABET } from "./model";

describe("user codes (RFC 8628 §6.1)", () => {
  test("a user code is 8 letters of the 20 consonants, shown as XXXX-XXXX", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = generateUserCode();
      expect(c).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{8}$/);
      seen.add(c);
      expect(formatUserCode(c)).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    }
    expect(seen.size).toBe(200);
    expect(USER_CODE_ALPHABET).toHaveLength(20);
    expect(USER_CODE_ALPHABET).not.toMatch(/[AEIOUY]/);
  });

  test("entry is case-, dash- and space-insensitive", () => {
    for (const typed of ["WDJB-MJHT", "wdjb-mjht", "WDJBMJHT", "wdjb mjht", " Wd-Jb-Mj-Ht ", "WDJB\u2013MJHT"]) {
      expect(normaliseUserCode(typed)).toBe("WDJBMJHT");
    }
  });

  test("a code that cannot exist is refused before any lookup", () => {
    for (const typed of [undefined, "", "WDJB-MJH", "WDJB-MJHTX", "AEIO-UAEI", "WDJB-MJH1", "WDJB_MJHT", "x".repeat(100)]) {
      expect(normaliseUserCode(typed)).toBeUndefined();
    }
  });
});
