import { describe, expect, test } from "bun:test";
import { jwtKindOf } from "./jwt-kind";

const at = { iss: "i", sub: "u", client_id: "c", scope: "openid", jti: "j" };
const id = { iss: "i", sub: "u", aud: "c", nonce: "n", azp: "c" };
const logout = { iss: "i", sub: "u", aud: "c", sid: "s", jti: "j", events: { "http://schemas.openid.net/event/backchannel-logout": {} } };

describe("the kind of one of our JWTs: typ and claims must agree (RFC 8725 §3.11)", () => {
  test("each kind is recognised by its typ, with or without the application/ prefix", () => {
    expect(jwtKindOf("at+jwt", at)).toBe("access_token");
    expect(jwtKindOf("application/at+jwt", at)).toBe("access_token");
    expect(jwtKindOf("JWT", id)).toBe("id_token");
    expect(jwtKindOf("logout+jwt", logout)).toBe("logout_token");
  });
  test("a typ that names another kind, or none, is no kind", () => {
    expect(jwtKindOf("JWT", logout)).toBeUndefined();
    expect(jwtKindOf("JWT", at)).toBeUndefined();
    expect(jwtKindOf("at+jwt", id)).toBeUndefined();
    expect(jwtKindOf("logout+jwt", id)).toBeUndefined();
    expect(jwtKindOf(undefined, id)).toBeUndefined();
    expect(jwtKindOf("logout+jwt", { ...logout, nonce: "n" })).toBeUndefined();
    expect(jwtKindOf("at+jwt", { ...at, events: {} })).toBeUndefined();
  });
});
