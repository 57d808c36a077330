// Pure parts of DPoP (RFC 9449): the key thumbprint (RFC 7638) and the htu normalisation (§4.3 check 9).
import { describe, expect, test } from "bun:test";
import { calculateJwkThumbprint } from "jose";
import { generateDpopKey } from "../lib/dpop-proof";
import { normaliseHtu, thumbprint } from "./dpop";

describe("thumbprint (RFC 7638 §3, SHA-256, base64url)", () => {
  test("equals jose's calculateJwkThumbprint for EC, OKP and RSA keys", async () => {
    for (const alg of ["ES256", "EdDSA", "RS256"] as const) {
      const { publicJwk } = await generateDpopKey(alg);
      expect([alg, thumbprint({ ...publicJwk, alg, use: "sig", kid: "ignored" })]).toEqual([alg, await calculateJwkThumbprint(publicJwk, "sha256")]);
    }
  });

  test("an unknown key type has no thumbprint", () => {
    expect(() => thumbprint({ kty: "oct", k: "AAAA" })).toThrow();
  });
});

describe("normaliseHtu (RFC 9449 §4.3 check 9, RFC 3986 §6.2.2-3)", () => {
  test("drops query and fragment, lower-cases scheme and host, drops the default port", () => {
    expect(normaliseHtu("HTTPS://Auth.Example.COM:443/oauth/token?x=1#f")).toBe("https://auth.example.com/oauth/token");
    expect(normaliseHtu("http://localhost:80/oidc/userinfo")).toBe("http://localhost/oidc/userinfo");
  });

  test("keeps the path exact and refuses what is not an http(s) URL", () => {
    expect(normaliseHtu("https://a.example/oauth/token/")).not.toBe(normaliseHtu("https://a.example/oauth/token"));
    expect(normaliseHtu("urn:x:y")).toBeUndefined();
    expect(normaliseHtu("not a url")).toBeUndefined();
  });
});
