import { describe, expect, test } from "bun:test";
import { ACR } from "../model";
import { federatedAuthentication, mapClaims, mappingProblem } from "./model";

describe("claim mapping", () => {
  test("OIDC standard claims by default; only email_verified === true counts", () => {
    expect(mapClaims({ sub: "s1", preferred_username: "ada", email: "a@x.org", email_verified: "true" }, {})).toMatchObject({ subject: "s1", username: "ada", email: "a@x.org", emailVerified: false });
    expect(mapClaims({ sub: "s1", email: "a@x.org", email_verified: true }, {})!.emailVerified).toBe(true);
  });
  test("GitHub's /user shape: numeric id as the subject, login as the username", () => {
    expect(mapClaims({ id: 583231, login: "octocat", name: "The Octocat", email: null }, { subject: "id", username: "login" })).toMatchObject({ subject: "583231", username: "octocat", name: "The Octocat", email: undefined, emailVerified: false });
  });
  // Security review (h-audit): an upstream's text reaches SQL; the text rule (lib/text.ts) applies.
  test("a claim that is not valid text (NUL, lone surrogate) counts as absent; a subject that is not is no profile", () => {
    expect(mapClaims({ sub: "s\u00001" }, {})).toBeUndefined();
    expect(mapClaims({ sub: "s\ud8001" }, {})).toBeUndefined();
    expect(mapClaims({ sub: "s1", name: "Ada\u0000", email: "a\udc00@x.org", preferred_username: "ada" }, {})).toMatchObject({ subject: "s1", name: undefined, email: undefined, username: "ada" });
  });
  test("no subject, no profile; dotted paths reach into objects", () => {
    expect(mapClaims({ name: "x" }, {})).toBeUndefined();
    expect(mapClaims({ user: { uid: "u9" } }, { subject: "user.uid" })!.subject).toBe("u9");
  });
  test("unknown mapping fields are refused", () => {
    expect(mappingProblem({ is_admin: "groups" })).toContain("unknown field 'is_admin'");
    expect(mappingProblem({ subject: "id" })).toBeUndefined();
  });
});

describe("session strength of an upstream sign-in (RFC 8176, OIDC Core §2)", () => {
  test("registered amr values are kept, others dropped; acr is pwd unless the upstream says mfa", () => {
    expect(federatedAuthentication({ amr: ["pwd", "x-custom", "otp"] })).toEqual({ amr: ["otp", "pwd"], acr: ACR.pwd });
    expect(federatedAuthentication({ amr: ["mfa", "hwk", "pwd"] })).toEqual({ amr: ["hwk", "mfa", "pwd"], acr: ACR.mfa });
    expect(federatedAuthentication({})).toEqual({ amr: [], acr: ACR.pwd });
  });
});
