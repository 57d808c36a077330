import { describe, expect, test } from "bun:test";
import { decrypt, deriveKey, encrypt, hashSecret, randomToken, safeEqual } from "./crypto";

describe("crypto helpers", () => {
  test("random tokens carry 256 bits and never repeat", () => {
    const seen = new Set(Array.from({ length: 1000 }, () => randomToken()));
    expect(seen.size).toBe(1000);
    expect(Buffer.from([...seen][0]!, "base64url").length).toBe(32);
  });
  test("keyed hash depends on the pepper", () => {
    expect(hashSecret("a".repeat(32), "s")).not.toBe(hashSecret("b".repeat(32), "s"));
    expect(hashSecret("a".repeat(32), "s")).toBe(hashSecret("a".repeat(32), "s"));
  });
  test("safeEqual compares content", () => {
    expect(safeEqual("abc", "abc")).toBe(true);
    expect(safeEqual("abc", "abd")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
  });
  test("AES-GCM round trip; a wrong key or changed data fails", () => {
    const k = deriveKey("x".repeat(32), "keys");
    const sealed = encrypt(k, "secret text", "kid1");
    expect(sealed).not.toContain("secret");
    expect(decrypt(k, sealed, "kid1")).toBe("secret text");
    expect(() => decrypt(deriveKey("y".repeat(32), "keys"), sealed, "kid1")).toThrow();
    expect(() => decrypt(k, sealed, "kid2")).toThrow();
  });
});
