import { describe, expect, test } from "bun:test";
import { OAuthError } from "../errors";
import { checkPkce, s256Challenge } from "./pkce";

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

function code(fn: () => void): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return (e as OAuthError).code;
  }
}

describe("PKCE (RFC 7636)", () => {
  test("computes the S256 challenge of the RFC 7636 Appendix B example", () => {
    expect(s256Challenge(verifier)).toBe(challenge);
  });
  test("accepts the matching verifier (RFC 7636 §4.6)", () => {
    expect(code(() => checkPkce({ challenge, method: "S256" }, verifier))).toBeUndefined();
  });
  test("rejects a wrong verifier", () => {
    expect(code(() => checkPkce({ challenge, method: "S256" }, verifier.replace("d", "e")))).toBe("invalid_grant");
  });
  test("rejects a missing verifier", () => {
    expect(code(() => checkPkce({ challenge, method: "S256" }, undefined))).toBe("invalid_grant");
  });
  test("rejects a verifier when no challenge was stored", () => {
    expect(code(() => checkPkce({ challenge: null, method: null }, verifier))).toBe("invalid_grant");
    expect(code(() => checkPkce({ challenge: "", method: "S256" }, verifier))).toBe("invalid_grant");
  });
  test("rejects the plain method even when verifier equals the challenge (OAuth 2.1)", () => {
    expect(code(() => checkPkce({ challenge: verifier, method: "plain" }, verifier))).toBe("invalid_grant");
  });
  test("rejects malformed verifiers: too short, too long, bad characters (RFC 7636 §4.1)", () => {
    const short = "a".repeat(42);
    expect(code(() => checkPkce({ challenge: s256Challenge(short), method: "S256" }, short))).toBe("invalid_grant");
    const long = "a".repeat(129);
    expect(code(() => checkPkce({ challenge: s256Challenge(long), method: "S256" }, long))).toBe("invalid_grant");
    const bad = `${"a".repeat(43)}+`;
    expect(code(() => checkPkce({ challenge: s256Challenge(bad), method: "S256" }, bad))).toBe("invalid_grant");
  });
});
