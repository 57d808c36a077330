import { describe, expect, test } from "bun:test";
import { ACR, combineAmr, levelOfAmr } from "./model";
import { effectivePolicy, essentialLevel, requirement } from "./requirement";

const none = { totp: false, webauthn: 0, recoveryCodes: 0 };
const totp = { totp: true, webauthn: 0, recoveryCodes: 10 };
const passkey = { totp: false, webauthn: 1, recoveryCodes: 10 };

describe("amr and acr (RFC 8176, OIDC Core §2)", () => {
  test("a password alone is pwd; with a TOTP or recovery code mfa; a passkey with user verification is phr on its own", () => {
    expect(combineAmr([], [{ kind: "password" }])).toEqual(["pwd"]);
    expect(levelOfAmr(["pwd"])).toBe("pwd");
    expect(combineAmr(["pwd"], [{ kind: "totp" }])).toEqual(["mfa", "otp", "pwd"]);
    expect(combineAmr(["pwd"], [{ kind: "recovery" }])).toEqual(["mfa", "otp", "pwd"]);
    expect(levelOfAmr(["mfa", "otp", "pwd"])).toBe("mfa");
    expect(combineAmr([], [{ kind: "webauthn", verified: true, synced: false }])).toEqual(["hwk", "mfa", "user"]);
    expect(combineAmr([], [{ kind: "webauthn", verified: true, synced: true }])).toEqual(["mfa", "swk", "user"]);
    expect(levelOfAmr(["hwk", "mfa", "user"])).toBe("phr");
  });

  test("a security key without user verification is one factor alone, phr after the password", () => {
    expect(combineAmr([], [{ kind: "webauthn", verified: false, synced: false }])).toEqual(["hwk"]);
    expect(levelOfAmr(["hwk"])).toBe("pwd");
    expect(levelOfAmr(combineAmr(["pwd"], [{ kind: "webauthn", verified: false, synced: false }]))).toBe("phr");
  });

  test("mfa is never carried over from a stored amr: it is recomputed", () => {
    expect(combineAmr(["mfa", "pwd"], [])).toEqual(["pwd"]);
  });
});

describe("what a sign-in must still prove", () => {
  test("policies: off asks nothing; optional asks users who enrolled; required makes the others enrol", () => {
    expect(requirement({ policy: "off", enrolment: totp, amr: ["pwd"] }).kind).toBe("satisfied");
    expect(requirement({ policy: "optional", enrolment: none, amr: ["pwd"] }).kind).toBe("satisfied");
    expect(requirement({ policy: "optional", enrolment: totp, amr: ["pwd"] })).toEqual({ kind: "factor", level: "mfa" });
    expect(requirement({ policy: "required", enrolment: none, amr: ["pwd"] })).toEqual({ kind: "enrol", level: "mfa" });
    expect(requirement({ policy: "required", enrolment: totp, amr: ["mfa", "otp", "pwd"] }).kind).toBe("satisfied");
  });

  test("admins: AUTHLY_ADMIN_REQUIRE_MFA makes the policy required whatever the client says", () => {
    expect(effectivePolicy("off", "optional", true, true)).toBe("required");
    expect(effectivePolicy("off", "optional", true, false)).toBe("off");
    expect(effectivePolicy(null, "optional", false, true)).toBe("optional");
  });

  test("acr_values are voluntary, in order of preference: the first level the user can reach", () => {
    expect(requirement({ policy: "off", enrolment: totp, amr: ["pwd"], request: { acrValues: `${ACR.phr} ${ACR.mfa}` } })).toEqual({ kind: "factor", level: "mfa" });
    expect(requirement({ policy: "off", enrolment: passkey, amr: ["pwd"], request: { acrValues: `${ACR.phr} ${ACR.mfa}` } })).toEqual({ kind: "factor", level: "phr" });
    expect(requirement({ policy: "off", enrolment: none, amr: ["pwd"], request: { acrValues: ACR.mfa } }).kind).toBe("satisfied");
    expect(requirement({ policy: "off", enrolment: totp, amr: ["pwd"], request: { acrValues: "urn:other:gold" } }).kind).toBe("satisfied");
  });

  test("an essential acr (§5.5.1.1): the weakest requested value is the minimum; unreachable or unknown is unmet", () => {
    expect(essentialLevel({ essential: true, values: [ACR.phr, ACR.mfa] })).toBe("mfa");
    expect(essentialLevel({ essential: true, value: "urn:other:gold" })).toBeNull();
    expect(essentialLevel({ essential: false, value: ACR.mfa })).toBeUndefined();
    expect(requirement({ policy: "off", enrolment: totp, amr: ["pwd"], request: { essential: { essential: true, value: ACR.phr } } }).kind).toBe("unmet");
    expect(requirement({ policy: "off", enrolment: none, amr: ["pwd"], request: { essential: { essential: true, value: ACR.mfa } } })).toEqual({ kind: "enrol", level: "mfa" });
    expect(requirement({ policy: "off", enrolment: totp, amr: ["pwd"], request: { essential: { essential: true, value: "urn:other:gold" } } }).kind).toBe("unmet");
    expect(requirement({ policy: "off", enrolment: passkey, amr: ["hwk", "mfa", "user"], request: { essential: { essential: true, value: ACR.mfa } } }).kind).toBe("satisfied");
  });

  test("a non-essential acr in the claims parameter is a preference like acr_values", () => {
    expect(requirement({ policy: "off", enrolment: totp, amr: ["pwd"], request: { essential: { value: ACR.mfa } } })).toEqual({ kind: "factor", level: "mfa" });
  });
});
