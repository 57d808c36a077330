// The device authorization grant's codes (RFC 8628 §3.2, §6.1): a device code of 256 random bits,
// and a user code of 8 letters from 20 consonants (no vowels: no words; no lookalikes), shown as
// XXXX-XXXX and read back case-, dash- and space-insensitively (§6.1).
import { randomInt } from "node:crypto";
import { DEVICE_CODE_GRANT } from "../clients/model";

export { DEVICE_CODE_GRANT };

/** RFC 8628 §6.1's example set: 20 consonants; 20^8 ≈ 2^34.6 codes. */
export const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
export const USER_CODE_LENGTH = 8;
/** Seconds slow_down adds to a device code's interval (RFC 8628 §3.5). */
export const SLOW_DOWN_SECONDS = 5;
/** Attempts at drawing a user code that no live code holds (a collision is rare: 2^-34 per live code). */
export const USER_CODE_ATTEMPTS = 5;
/** The path of the verification page under the issuer (verification_uri). */
export const VERIFICATION_PATH = "/device";

export type DeviceCodeStatus = "pending" | "approved" | "denied" | "redeemed";

/** A fresh user code, without the dash (as stored and compared). */
export function generateUserCode(): string {
  let out = "";
  for (let i = 0; i < USER_CODE_LENGTH; i++) out += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return out;
}

/** XXXX-XXXX, as shown to the user. */
export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * A user code as typed: upper-cased, dashes and white space dropped (RFC 8628 §6.1). Undefined when
 * the rest is not 8 letters of the alphabet (such a code cannot exist, so it is not looked up).
 */
export function normaliseUserCode(input: string | undefined): string | undefined {
  if (input === undefined || input.length > 64) return undefined;
  const code = input.toUpperCase().replace(/[\s\-\u2010-\u2015]/g, "");
  if (code.length !== USER_CODE_LENGTH) return undefined;
  for (const ch of code) if (!USER_CODE_ALPHABET.includes(ch)) return undefined;
  return code;
}
