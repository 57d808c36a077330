// OpenID Provider metadata (OIDC Discovery 1.0 §3-4) as the front channel sees it: every
// advertised endpoint answers, and every front-channel capability it claims is real.
import { describe, expect, test } from "bun:test";
import { createTestApp, type TestApp } from "../support/app";
import { USER_CLAIMS } from "../../src/oidc/claims";

const t: TestApp = await createTestApp();
const meta: Record<string, any> = await (await t.request("/.well-known/openid-configuration")).json();
const path = (url: string) => new URL(url).pathname;

describe("discovery", () => {
  test("oidcc-discovery-endpoint-verification: required members, issuer exact, https-free only for this loopback test issuer", async () => {
    expect(meta.issuer).toBe(t.issuer);
    for (const k of ["authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint", "response_types_supported", "subject_types_supported", "id_token_signing_alg_values_supported"]) {
      expect(meta[k]).toBeDefined();
    }
    expect(meta.response_types_supported).toEqual(["code"]);
    expect(meta.subject_types_supported).toEqual(["public"]);
    expect(meta.id_token_signing_alg_values_supported).toContain("RS256");
    expect(meta.scopes_supported).toContain("openid");
    for (const c of USER_CLAIMS) expect(meta.claims_supported).toContain(c);
  });

  test("the front-channel endpoints it names answer", async () => {
    expect((await t.request(path(meta.authorization_endpoint))).status).toBe(400);
    expect((await t.request(path(meta.userinfo_endpoint))).status).toBe(401);
    expect((await t.request(path(meta.end_session_endpoint))).status).toBe(200);
    expect((await t.request(path(meta.jwks_uri))).status).toBe(200);
  });

  test("front-channel capabilities are advertised truthfully", () => {
    expect(meta.response_modes_supported).toEqual(["query", "form_post"]);
    expect(meta.code_challenge_methods_supported).toEqual(["S256"]);
    expect(meta.claims_parameter_supported).toBe(true);
    expect(meta.request_parameter_supported).toBe(true);
    expect(meta.request_uri_parameter_supported).toBe(false);
    expect(meta.authorization_response_iss_parameter_supported).toBe(true);
    expect(meta.prompt_values_supported).toEqual(["none", "login", "consent", "select_account"]);
    // Back-channel logout works (oidc-backchannel-logout.test.ts); front-channel logout does not exist.
    expect(meta.backchannel_logout_supported).toBe(true);
    expect(meta.backchannel_logout_session_supported).toBe(true);
    expect(meta.frontchannel_logout_supported).not.toBe(true);
  });
});
