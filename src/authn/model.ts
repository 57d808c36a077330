// What a sign-in proved: authentication methods as RFC 8176 `amr` values, the assurance level they
// reach as an `acr` (OIDC Core §2), and the MFA policies. Pure functions, no I/O.
//
// amr values this server emits (RFC 8176 §2):
// - `pwd`  the password;
// - `otp`  a TOTP code (RFC 6238) or a recovery code: a single-use code the user holds. RFC 8176
//          names no value of its own for recovery codes; they are one-time passwords in the literal
//          sense, and the audit log (`authn.recovery_code.used`) tells them apart;
// - `hwk`  a WebAuthn credential bound to one device (credentialDeviceType singleDevice);
// - `swk`  a synced WebAuthn credential (multiDevice passkeys: the key lives in software/cloud);
// - `user` the authenticator tested the user's presence and verified the user (WebAuthn UP+UV);
//          whether by PIN or biometric is not reported to us, so neither `pin` nor `fpt` is claimed;
// - `mfa`  the methods together are more than one factor (RFC 8176: "multiple-factor").

/** Authentication context classes (acr values) in increasing strength. */
export const ACR = {
  pwd: "urn:authly:acr:pwd",
  mfa: "urn:authly:acr:mfa",
  phr: "urn:authly:acr:phr",
} as const;
export type AcrLevel = keyof typeof ACR;
export const ACR_VALUES: string[] = Object.values(ACR);
const ORDER: AcrLevel[] = ["pwd", "mfa", "phr"];

export type MfaPolicy = "off" | "optional" | "required";
export const MFA_POLICIES: MfaPolicy[] = ["off", "optional", "required"];

/** One method a user completed. */
export type Method =
  | { kind: "password" }
  | { kind: "totp" }
  | { kind: "recovery" }
  /** `verified`: the authenticator verified the user (UV); `synced`: a multi-device credential. */
  | { kind: "webauthn"; verified: boolean; synced: boolean };

export function levelRank(level: AcrLevel): number {
  return ORDER.indexOf(level);
}

export function atLeast(have: AcrLevel, want: AcrLevel): boolean {
  return levelRank(have) >= levelRank(want);
}

export function maxLevel(...levels: AcrLevel[]): AcrLevel {
  return levels.reduce((a, b) => (levelRank(b) > levelRank(a) ? b : a), "pwd" as AcrLevel);
}

/** The acr URI of a level, and back (undefined for values this server does not define). */
export function levelOfAcr(value: unknown): AcrLevel | undefined {
  return ORDER.find((l) => ACR[l] === value);
}

/** The amr of a session after `added` methods on top of `existing` amr values (sorted, no duplicates). */
export function combineAmr(existing: readonly string[], added: Method[]): string[] {
  const out = new Set(existing.filter((v) => v !== "mfa"));
  for (const m of added) {
    if (m.kind === "password") out.add("pwd");
    else if (m.kind === "totp" || m.kind === "recovery") out.add("otp");
    else {
      out.add(m.synced ? "swk" : "hwk");
      if (m.verified) out.add("user");
    }
  }
  if (factorCount(out) >= 2) out.add("mfa");
  return [...out].sort();
}

/** Distinct factors: knowledge (pwd), possession (otp, hwk/swk), and the authenticator's own user
 *  verification (user: a PIN or biometric checked by the authenticator, NIST SP 800-63B §5.1.9). */
function factorCount(amr: ReadonlySet<string>): number {
  let n = 0;
  if (amr.has("pwd")) n++;
  if (amr.has("otp") || amr.has("hwk") || amr.has("swk")) n++;
  if (amr.has("user") && (amr.has("hwk") || amr.has("swk"))) n++;
  return n;
}

/** The level an amr reaches: phr when a WebAuthn credential (origin-bound, phishing-resistant) is one
 *  of several factors; mfa with two factors; pwd otherwise. */
export function levelOfAmr(amr: readonly string[]): AcrLevel {
  const set = new Set(amr);
  const factors = factorCount(set);
  if (factors >= 2 && (set.has("hwk") || set.has("swk"))) return "phr";
  if (factors >= 2) return "mfa";
  return "pwd";
}

export function acrOfAmr(amr: readonly string[]): string {
  return ACR[levelOfAmr(amr)];
}

/** What a user has enrolled (confirmed factors only). */
export interface Enrolment {
  totp: boolean;
  webauthn: number;
  /** Unused recovery codes left. */
  recoveryCodes: number;
}

export function hasSecondFactor(e: Enrolment): boolean {
  return e.totp || e.webauthn > 0;
}

/** The level a user can reach with what is enrolled (recovery codes back up another factor). */
export function reachableLevel(e: Enrolment): AcrLevel {
  if (e.webauthn > 0) return "phr";
  if (e.totp || e.recoveryCodes > 0) return "mfa";
  return "pwd";
}
