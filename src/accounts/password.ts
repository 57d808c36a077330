// Password hashing with Bun.password (argon2id, OWASP parameters from the config). Unknown users
// are checked against a dummy hash so that login costs the same whether or not the user exists.
import type { Config } from "../config";

export interface PasswordParams {
  memoryCost: number;
  timeCost: number;
}

export function passwordParams(config: Pick<Config, "passwordMemoryCost" | "passwordTimeCost">): PasswordParams {
  return { memoryCost: config.passwordMemoryCost, timeCost: config.passwordTimeCost };
}

export function hashPassword(password: string, p: PasswordParams): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id", memoryCost: p.memoryCost, timeCost: p.timeCost });
}

// One dummy hash per parameter set: it must cost what a real hash with the configured parameters
// costs (a process may run with several configurations, e.g. in tests).
const dummies = new Map<string, Promise<string>>();

/**
 * Verifies a password; `hash` undefined (unknown user) still spends one verification.
 * `needsRehash` is true when the stored hash uses other parameters than the configured ones.
 */
export async function verifyPassword(password: string, hash: string | null | undefined, p: PasswordParams): Promise<{ ok: boolean; needsRehash: boolean }> {
  if (!hash) {
    const key = `${p.memoryCost}:${p.timeCost}`;
    let dummy = dummies.get(key);
    if (!dummy) dummies.set(key, (dummy = hashPassword("authly-dummy-password-for-timing", p)));
    await Bun.password.verify(password, await dummy).catch(() => false);
    return { ok: false, needsRehash: false };
  }
  const ok = await Bun.password.verify(password, hash).catch(() => false);
  const needsRehash = ok && !hash.startsWith(`$argon2id$v=19$m=${p.memoryCost},t=${p.timeCost},`);
  return { ok, needsRehash };
}
