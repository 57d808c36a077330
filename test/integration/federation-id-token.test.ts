// The upstream ID token checks (OIDC Core §3.1.3.7) one rule at a time, against a JWK Set served on
// loopback (read through safeFetch; dev mode allows loopback): signature, alg, iss, aud, azp, exp,
// nonce. The end-to-end flow with a real upstream is in federation.test.ts.
import { describe, expect, test } from "bun:test";
import { SignJWT, UnsecuredJWT } from "jose";
import { createTestApp } from "../support/app";
import { serveUpstreamJwks } from "../support/federation";
import { FederationError, verifyIdToken } from "../../src/authn/upstream/flow";
import type { IdpRecord } from "../../src/authn/upstream/model";

const t = await createTestApp();
const { good, other, jwksUri } = await serveUpstreamJwks();

const ISSUER = "https://upstream.example";
const idp = { id: "00000000-0000-0000-0000-000000000000", slug: "up", name: "Upstream", kind: "oidc", issuer: ISSUER, jwks_uri: jwksUri, client_id: "our-client" } as IdpRecord;
const NONCE = "the-nonce";

async function token(claims: Record<string, unknown> = {}, opts: { key?: CryptoKey; exp?: string } = {}): Promise<string> {
  return new SignJWT({ nonce: NONCE, ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer((claims.iss as string) ?? ISSUER)
    .setAudience((claims.aud as string | string[]) ?? "our-client")
    .setSubject("u-1")
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? "5m")
    .sign(opts.key ?? good.privateKey);
}

async function reason(jwt: string): Promise<string> {
  try {
    await verifyIdToken(t.deps, idp, jwt, NONCE);
    return "accepted";
  } catch (err) {
    if (err instanceof FederationError) return err.reason;
    throw err;
  }
}

describe("upstream ID token (OIDC Core §3.1.3.7)", () => {
  test("a token signed by the provider's key, for us, with our nonce, is accepted", async () => {
    expect(await reason(await token())).toBe("accepted");
  });
  test("refuses a signature by another key", async () => {
    expect(await reason(await token({}, { key: other.privateKey }))).toStartWith("id_token_");
  });
  test("refuses an unsigned token (alg none)", async () => {
    const none = new UnsecuredJWT({ nonce: NONCE }).setIssuer(ISSUER).setAudience("our-client").setSubject("u-1").setIssuedAt().setExpirationTime("5m").encode();
    expect(await reason(none)).toStartWith("id_token_");
  });
  test("refuses another issuer", async () => {
    expect(await reason(await token({ iss: "https://evil.example" }))).toBe("id_token_ERR_JWT_CLAIM_VALIDATION_FAILED");
  });
  test("refuses a token for another audience", async () => {
    expect(await reason(await token({ aud: "someone-else" }))).toBe("id_token_ERR_JWT_CLAIM_VALIDATION_FAILED");
  });
  test("several audiences need azp = our client_id", async () => {
    expect(await reason(await token({ aud: ["our-client", "other"] }))).toBe("id_token_azp");
    expect(await reason(await token({ aud: ["our-client", "other"], azp: "our-client" }))).toBe("accepted");
  });
  test("refuses an expired token (beyond the 60 s tolerance)", async () => {
    expect(await reason(await token({}, { exp: "-5m" }))).toBe("id_token_ERR_JWT_EXPIRED");
  });
  test("refuses another nonce, or none (a replayed or injected token)", async () => {
    expect(await reason(await token({ nonce: "other" }))).toBe("id_token_nonce");
    const noNonce = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(ISSUER).setAudience("our-client").setSubject("u-1").setIssuedAt().setExpirationTime("5m").sign(good.privateKey);
    expect(await reason(noNonce)).toBe("id_token_nonce");
  });
});
