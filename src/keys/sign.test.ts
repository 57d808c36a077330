import { describe, expect, test } from "bun:test";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { exportJWK, generateKeyPair, jwtVerify, decodeProtectedHeader } from "jose";
import { signCompactJws, type LoadedKey } from "./service";

async function loaded(alg: "RS256" | "ES256" | "EdDSA"): Promise<LoadedKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return {
    kid: `kid-${alg}`,
    alg,
    state: "active",
    publicJwk: await exportJWK(publicKey),
    privateKeyObject: createPrivateKey({ key: jwk, format: "jwk" } as Parameters<typeof createPrivateKey>[0]),
    publicKeyObject: createPublicKey({ key: await exportJWK(publicKey), format: "jwk" } as Parameters<typeof createPublicKey>[0]),
  };
}

describe("signCompactJws (RFC 7515 compact serialisation)", () => {
  for (const alg of ["ES256", "EdDSA", "RS256"] as const) {
    test(`${alg}: verifies with jose, header carries alg, kid and typ`, async () => {
      const key = await loaded(alg);
      const jws = await signCompactJws(key, { typ: "at+jwt" }, { sub: "s", scope: "a b", exp: Math.floor(Date.now() / 1000) + 60, name: "Zoë \u2028" });
      const { payload } = await jwtVerify(jws, key.publicKeyObject, { typ: "at+jwt", algorithms: [alg] });
      expect(payload.sub).toBe("s");
      expect(payload.name).toBe("Zoë \u2028");
      expect(decodeProtectedHeader(jws)).toEqual({ typ: "at+jwt", alg, kid: `kid-${alg}` });
      const tampered = jws.replace(/\.[^.]+\./, `.${Buffer.from(JSON.stringify({ sub: "t" })).toString("base64url")}.`);
      await expect(jwtVerify(tampered, key.publicKeyObject)).rejects.toThrow();
    });
  }
});
