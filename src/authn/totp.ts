// TOTP (RFC 6238, on RFC 4226 HOTP) with `otpauth`: SHA-1, 6 digits, 30 s steps, the form every
// authenticator app reads. Secrets are encrypted at rest with AES-256-GCM under a key derived from
// JWT_SECRET_KEY, the same lib/crypto functions that seal private signing keys; a code is accepted
// within ±1 step (§5.2's network delay allowance) and once only (§5.2: the last step used is kept).
import * as OTPAuth from "otpauth";
import { renderSVG } from "uqr";
import type { Deps } from "../deps";
import { decrypt, deriveKey, encrypt } from "../lib/crypto";
import * as store from "./store";

export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of now (RFC 6238 §5.2 recommends at most one). */
export const TOTP_WINDOW = 1;

function sealingKey(deps: Deps): Buffer {
  return deriveKey(deps.config.jwtSecretKey!, "totp-secret-encryption");
}

function totpFor(secretBase32: string, label: string, issuer: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer, label, algorithm: "SHA1", digits: TOTP_DIGITS, period: TOTP_PERIOD, secret: OTPAuth.Secret.fromBase32(secretBase32) });
}

/** The issuer name shown in authenticator apps: the issuer's host. */
function issuerName(deps: Deps): string {
  return `Authly (${new URL(deps.config.issuer).host})`;
}

export interface TotpEnrolment {
  secret: string;
  uri: string;
  /** The otpauth URI as an inline SVG QR code (no script, no network). */
  qrSvg: string;
}

/** Starts (or restarts) an enrolment: a new 160-bit secret, stored encrypted and unconfirmed.
 *  undefined when the user already has a confirmed TOTP (remove it first). */
export async function beginTotpEnrolment(deps: Deps, user: { id: string; username: string }): Promise<TotpEnrolment | undefined> {
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  const sealed = encrypt(sealingKey(deps), secret, `totp:${user.id}`);
  if (!(await store.upsertPendingTotp(deps.sql, user.id, sealed))) return undefined;
  return describeEnrolment(deps, user, secret);
}

/** The pending enrolment again (a page reload, a wrong first code): same secret. */
export async function pendingTotpEnrolment(deps: Deps, user: { id: string; username: string }): Promise<TotpEnrolment | undefined> {
  const row = await store.findTotp(deps.sql, user.id);
  if (!row || row.confirmed_at) return undefined;
  return describeEnrolment(deps, user, decrypt(sealingKey(deps), row.secret_encrypted, `totp:${user.id}`));
}

function describeEnrolment(deps: Deps, user: { username: string }, secret: string): TotpEnrolment {
  const uri = totpFor(secret, user.username, issuerName(deps)).toString();
  const qrSvg = renderSVG(uri, { border: 4, pixelSize: 5, ecc: "M" }).replace("<svg ", `<svg role="img" aria-label="QR code of the authenticator app secret" focusable="false" `);
  return { secret: secret.replace(/(.{4})/g, "$1 ").trim(), uri, qrSvg };
}

/**
 * Checks a code against the user's secret and takes its time step: true once per step and code.
 * `enrolment`: the code confirms a pending secret (and only a pending one); otherwise only a
 * confirmed secret counts. The caller throttles (accounts/authenticate.ts throttledFactorCheck).
 */
export async function verifyTotp(deps: Deps, userId: string, code: string, enrolment = false, now = Date.now()): Promise<boolean> {
  const token = code.replace(/[\s-]/g, "");
  if (!/^\d{6}$/.test(token)) return false;
  const row = await store.findTotp(deps.sql, userId);
  if (!row || Boolean(row.confirmed_at) === enrolment) return false;
  let secret: string;
  try {
    secret = decrypt(sealingKey(deps), row.secret_encrypted, `totp:${userId}`);
  } catch {
    return false; // sealed under another JWT_SECRET_KEY: the factor must be reset by an admin
  }
  const delta = totpFor(secret, "", "").validate({ token, timestamp: now, window: TOTP_WINDOW });
  if (delta === null) return false;
  const step = Math.floor(now / 1000 / TOTP_PERIOD) + delta;
  return store.takeTotpStep(deps.sql, userId, step, enrolment);
}

/** The code of a secret at a time (tests and the CLI's own checks; never sent anywhere). */
export function totpCode(secretBase32: string, timestamp = Date.now()): string {
  return totpFor(secretBase32.replace(/\s/g, ""), "", "").generate({ timestamp });
}
