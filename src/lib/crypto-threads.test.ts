import { describe, expect, test } from "bun:test";
import { generateKeyPairSync, verify as nodeVerify, constants, type KeyObject } from "node:crypto";
import { sign, signNow, verify, verifyNow, type JwsAlg } from "./crypto-threads";

function pair(alg: JwsAlg): { privateKey: KeyObject; publicKey: KeyObject } {
  if (alg === "ES256") return generateKeyPairSync("ec", { namedCurve: "P-256" });
  if (alg === "EdDSA") return generateKeyPairSync("ed25519");
  return generateKeyPairSync("rsa", { modulusLength: 2048 });
}

/** An independent check of a JWS signature (RFC 7518 §3) with node:crypto's own options. */
function independentlyValid(alg: JwsAlg, publicKey: KeyObject, data: string, sigB64u: string): boolean {
  const sig = Buffer.from(sigB64u, "base64url");
  if (alg === "ES256") return sig.length === 64 && nodeVerify("sha256", Buffer.from(data), { key: publicKey, dsaEncoding: "ieee-p1363" }, sig);
  if (alg === "EdDSA") return nodeVerify(null, Buffer.from(data), publicKey, sig);
  if (alg === "PS256") return nodeVerify("sha256", Buffer.from(data), { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
  return nodeVerify("sha256", Buffer.from(data), publicKey, sig);
}

describe("signatures on helper threads", () => {
  for (const alg of ["ES256", "EdDSA", "PS256", "RS256"] as const) {
    test(`${alg}: a thread's signature verifies independently, and its checks agree with checks in place`, async () => {
      const { privateKey, publicKey } = pair(alg);
      const data = `eyJhbGciOiJ${alg}In0.${Buffer.from(JSON.stringify({ sub: "zoë", n: Math.random() })).toString("base64url")}`;
      const sig = await sign(alg, privateKey, data);
      expect(independentlyValid(alg, publicKey, data, sig)).toBe(true);
      expect(await verify(alg, publicKey, data, sig)).toBe(true);
      expect(verifyNow(alg, publicKey, data, sig)).toBe(true);
      expect(independentlyValid(alg, publicKey, data, signNow(alg, privateKey, data))).toBe(true);
      // Another payload, another key, a truncated or garbage signature: refused, never thrown.
      const other = pair(alg).publicKey;
      expect(await verify(alg, publicKey, `${data}x`, sig)).toBe(false);
      expect(await verify(alg, other, data, sig)).toBe(false);
      expect(await verify(alg, publicKey, data, sig.slice(0, 20))).toBe(false);
      expect(await verify(alg, publicKey, data, "")).toBe(false);
      expect(await verify(alg, publicKey, data, "%%%")).toBe(false);
    });
  }

  test("many jobs at once are each answered with their own result (batches keep their order)", async () => {
    const es = pair("ES256");
    const ed = pair("EdDSA");
    const jobs = Array.from({ length: 300 }, (_, i) => ({ i, alg: (i % 2 ? "ES256" : "EdDSA") as JwsAlg, keys: i % 2 ? es : ed, data: `payload-${i}` }));
    const sigs = await Promise.all(jobs.map((j) => sign(j.alg, j.keys.privateKey, j.data)));
    jobs.forEach((j, n) => expect(independentlyValid(j.alg, j.keys.publicKey, j.data, sigs[n]!)).toBe(true));
    // Every other signature swapped with its neighbour's: exactly those fail.
    const checks = await Promise.all(jobs.map((j, n) => verify(j.alg, j.keys.publicKey, j.data, n % 4 === 0 && n + 2 < jobs.length ? sigs[n + 2]! : sigs[n]!)));
    checks.forEach((ok, n) => expect(ok).toBe(!(n % 4 === 0 && n + 2 < jobs.length)));
  });

  test("more keys than a thread holds: each job still uses its own key, and a forgotten key is sent again", async () => {
    const keys = Array.from({ length: 4200 }, () => generateKeyPairSync("ed25519"));
    const sigs = await Promise.all(keys.map((k, i) => sign("EdDSA", k.privateKey, `data-${i}`)));
    sigs.forEach((s, i) => expect(independentlyValid("EdDSA", keys[i]!.publicKey, `data-${i}`, s)).toBe(true));
    // The first keys were forgotten when the thread reached its bound: they come back.
    const again = await sign("EdDSA", keys[0]!.privateKey, "again");
    expect(independentlyValid("EdDSA", keys[0]!.publicKey, "again", again)).toBe(true);
    expect(await verify("EdDSA", keys[1]!.publicKey, "data-1", sigs[1]!)).toBe(true);
    expect(await verify("EdDSA", keys[2]!.publicKey, "data-1", sigs[1]!)).toBe(false);
  });

  test("inputs with a tab or a line break (never base64url) are computed in place, with the same results", async () => {
    const { privateKey, publicKey } = pair("ES256");
    for (const data of ["a\tb", "a\nb", "a.b\n"]) {
      const sig = await sign("ES256", privateKey, data);
      expect(independentlyValid("ES256", publicKey, data, sig)).toBe(true);
      expect(await verify("ES256", publicKey, data, sig)).toBe(true);
      expect(await verify("ES256", publicKey, `${data}x`, sig)).toBe(false);
    }
  });

  test("AUTHLY_CRYPTO_THREADS=0: a server process signs on its event loop, with the same results", () => {
    const script = `
      import { configureCryptoThreads, sign, verify } from ${JSON.stringify(`${import.meta.dir}/crypto-threads.ts`)};
      import { generateKeyPairSync } from "node:crypto";
      configureCryptoThreads(0);
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const sig = await sign("ES256", privateKey, "a.b");
      const ok = await verify("ES256", publicKey, "a.b", sig);
      const { readdirSync, readFileSync } = await import("node:fs");
      const names = readdirSync("/proc/self/task").map((t) => readFileSync("/proc/self/task/" + t + "/comm", "utf8").trim());
      console.log(JSON.stringify({ ok, workers: names.filter((n) => n === "Worker").length }));`;
    const r = Bun.spawnSync([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    const out = JSON.parse(r.stdout.toString()) as { ok: boolean; workers: number };
    expect(out.ok).toBe(true);
    if (process.platform === "linux") expect(out.workers).toBe(0);
  });
});
