// WebAuthn Level 3 with @simplewebauthn/server: passkeys (discoverable credentials, user
// verification required) and security keys as a second factor. The RP ID is the issuer's host and
// the only accepted origin the issuer's origin. Attestation: `none` is requested; a statement an
// authenticator sends anyway is checked by the library (packed, tpm, android-key,
// android-safetynet, fido-u2f, apple) but no trust anchor is required, and only the AAGUID kept.
// Challenges are random, single-use and live CHALLENGE_TTL_SECONDS: sealed (HMAC with the server's
// pepper, with their purpose, user and expiry), so that showing a page writes nothing; the first
// use of each is recorded (table webauthn_challenges, until it expires) and a second one refused.
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import type { Deps } from "../deps";
import { randomBytes } from "node:crypto";
import { hashSecret, safeEqual } from "../lib/crypto";
import { loadOnce } from "../lib/load-once";
import { parseJsonSafely } from "../lib/text";
import type { Method } from "./model";
import * as store from "./store";
import type { CredentialRow } from "./store";

/**
 * @simplewebauthn/server, loaded at the first verification: with its certificate stack
 * (@peculiar/*, asn1js, tsyringe) it is about 300 modules that a server whose users never use a
 * passkey would otherwise hold in every worker's memory. tsyringe needs the Reflect metadata
 * polyfill evaluated before it, so it is imported (and awaited) first.
 */
const webauthnLibrary = loadOnce(() => import("reflect-metadata").then(() => import("@simplewebauthn/server")));

export const CHALLENGE_TTL_SECONDS = 5 * 60;
/** COSE algorithms accepted: ES256, EdDSA, RS256. */
export const COSE_ALGS = [-7, -8, -257];
/** Credentials one user may register. */
export const MAX_CREDENTIALS = 20;
export const CREDENTIAL_NAME_MAX = 64;

export function relyingParty(deps: Deps): { id: string; origin: string; name: string } {
  const url = new URL(deps.config.issuer);
  return { id: url.hostname, origin: url.origin, name: "Authly" };
}

/** Bytes of a sealed challenge: 16 random, the expiry (4), the user id (16), then 16 of its seal. */
const SEALED_BODY = 36;
const SEALED_BYTES = SEALED_BODY + 16;
const NO_USER = "00000000000000000000000000000000";

/** A new single-use challenge for a page (base64url of 52 bytes, so that it survives the browser's
 *  bytes round trip): 128 random bits, the expiry and the user it is for, sealed with an HMAC of
 *  the server's pepper and its purpose. */
export function newChallenge(deps: Deps, purpose: "register" | "authenticate", userId: string | null): string {
  const body = Buffer.alloc(SEALED_BODY);
  randomBytes(16).copy(body, 0);
  body.writeUInt32BE(Math.floor(Date.now() / 1000) + CHALLENGE_TTL_SECONDS, 16);
  Buffer.from(userId ? userId.replaceAll("-", "") : NO_USER, "hex").copy(body, 20);
  return Buffer.concat([body, seal(deps, purpose, body)]).toString("base64url");
}

function seal(deps: Deps, purpose: string, body: Buffer): Buffer {
  return Buffer.from(hashSecret(deps.peppers.secrets, `webauthn-challenge:${purpose}:${body.toString("base64url")}`), "base64url").subarray(0, SEALED_BYTES - SEALED_BODY);
}

/** The expiry and user of a sealed challenge of this purpose; undefined when the seal is wrong or it expired. */
function openChallenge(deps: Deps, challenge: string, purpose: "register" | "authenticate"): { userId: string | null; expiresAt: Date } | undefined {
  const raw = Buffer.from(challenge, "base64url");
  if (raw.length !== SEALED_BYTES || raw.toString("base64url") !== challenge) return undefined;
  const body = raw.subarray(0, SEALED_BODY);
  if (!safeEqual(raw.subarray(SEALED_BODY).toString("base64url"), seal(deps, purpose, body).toString("base64url"))) return undefined;
  const expiresAt = new Date(body.readUInt32BE(16) * 1000);
  if (expiresAt.getTime() <= Date.now()) return undefined;
  const hex = body.subarray(20, 36).toString("hex");
  const userId = hex === NO_USER ? null : `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { userId, expiresAt };
}

function challengeHash(deps: Deps, challenge: string): string {
  return hashSecret(deps.peppers.secrets, `webauthn:${challenge}`);
}

/** The challenge a browser signed (from clientDataJSON), taken from the store: once, in time. */
async function takeSignedChallenge(deps: Deps, clientDataJSON: unknown, purpose: "register" | "authenticate"): Promise<{ challenge: string; userId: string | null } | undefined> {
  if (typeof clientDataJSON !== "string" || clientDataJSON.length > 4096) return undefined;
  const parsed = parseJsonSafely(Buffer.from(clientDataJSON, "base64url").toString("utf8"), { maxBytes: 4096, maxDepth: 4 });
  const challenge = parsed.ok ? (parsed.value as { challenge?: unknown }).challenge : undefined;
  if (typeof challenge !== "string" || !/^[A-Za-z0-9_-]{16,128}$/.test(challenge)) return undefined;
  const sealed = openChallenge(deps, challenge, purpose);
  if (sealed) return (await store.recordChallengeUse(deps.sql, challengeHash(deps, challenge), purpose, sealed.expiresAt)) ? { challenge, userId: sealed.userId } : undefined;
  // A challenge stored by an earlier version (a page shown before an upgrade).
  const row = await store.takeChallenge(deps.sql, challengeHash(deps, challenge), purpose);
  return row ? { challenge, userId: row.user_id } : undefined;
}

/** The JSON a page posts (a PublicKeyCredential as JSON), bounded; undefined when it is not one. */
export function parseCredentialJson<T>(raw: string | undefined): T | undefined {
  if (!raw || raw.length > 16 * 1024) return undefined;
  const parsed = parseJsonSafely(raw, { maxBytes: 16 * 1024, maxDepth: 6 });
  if (!parsed.ok || typeof parsed.value !== "object" || parsed.value === null) return undefined;
  const v = parsed.value as { id?: unknown; response?: unknown; type?: unknown };
  if (typeof v.id !== "string" || !/^[A-Za-z0-9_-]{1,1400}$/.test(v.id) || v.type !== "public-key" || typeof v.response !== "object" || v.response === null) return undefined;
  return parsed.value as T;
}

export type WebAuthnFailure = "malformed" | "challenge" | "unknown_credential" | "wrong_user" | "invalid" | "counter";

export class WebAuthnError extends Error {
  constructor(readonly reason: WebAuthnFailure) {
    super(`WebAuthn verification failed: ${reason}`);
    this.name = "WebAuthnError";
  }
}

/**
 * Verifies an assertion. `expectUser`: the user who must own the credential (a second factor or a
 * step-up); absent: a passkey sign-in, where the credential names the user and user verification
 * is required. Returns the user and the method; throws WebAuthnError.
 */
export async function verifyAssertion(deps: Deps, raw: string | undefined, expectUser?: string): Promise<{ userId: string; credential: CredentialRow; method: Method }> {
  const response = parseCredentialJson<AuthenticationResponseJSON>(raw);
  if (!response) throw new WebAuthnError("malformed");
  const signed = await takeSignedChallenge(deps, response.response?.clientDataJSON, "authenticate");
  if (!signed || (expectUser !== undefined && signed.userId !== null && signed.userId !== expectUser)) throw new WebAuthnError("challenge");
  const credential = await store.findCredential(deps.sql, response.id);
  if (!credential) throw new WebAuthnError("unknown_credential");
  if (expectUser !== undefined && credential.user_id !== expectUser) throw new WebAuthnError("wrong_user");
  const handle = response.response.userHandle;
  if (handle && Buffer.from(handle, "base64url").toString("utf8") !== credential.user_id) throw new WebAuthnError("wrong_user");
  const passkey = expectUser === undefined;
  if (passkey && !credential.is_passkey) throw new WebAuthnError("invalid");
  const rp = relyingParty(deps);
  // Outside the try: a library that fails to load is a server error, not a refused credential.
  const { verifyAuthenticationResponse } = await webauthnLibrary();
  let info;
  try {
    const v = await verifyAuthenticationResponse({
      response,
      expectedChallenge: signed.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: passkey,
      credential: { id: credential.id, publicKey: new Uint8Array(Buffer.from(credential.public_key, "base64url")), counter: Number(credential.sign_count), transports: credential.transports as never },
    });
    if (!v.verified) throw new WebAuthnError("invalid");
    info = v.authenticationInfo;
  } catch (err) {
    if (err instanceof WebAuthnError) throw err;
    throw new WebAuthnError(/counter/i.test((err as Error).message) ? "counter" : "invalid");
  }
  if (!(await store.recordCredentialUse(deps.sql, credential.id, info.newCounter))) throw new WebAuthnError("counter");
  return { userId: credential.user_id, credential, method: { kind: "webauthn", verified: info.userVerified, synced: credential.device_type === "multiDevice" } };
}

/** What a registration page hands to navigator.credentials.create (WebAuthn §5.4). */
export async function registrationOptions(deps: Deps, user: { id: string; username: string; name?: string | null }) {
  const rp = relyingParty(deps);
  const existing = await store.listCredentials(deps.sql, user.id);
  return {
    challenge: newChallenge(deps, "register", user.id),
    rpId: rp.id,
    rpName: rp.name,
    userId: Buffer.from(user.id).toString("base64url"),
    userName: user.username,
    userDisplayName: user.name || user.username,
    exclude: existing.map((c) => c.id),
    full: existing.length >= MAX_CREDENTIALS,
  };
}

/** Verifies a registration and stores the credential. Passkeys: discoverable and user-verified. */
export async function registerCredential(deps: Deps, userId: string, raw: string | undefined, name: string): Promise<CredentialRow> {
  const response = parseCredentialJson<RegistrationResponseJSON>(raw);
  if (!response) throw new WebAuthnError("malformed");
  const signed = await takeSignedChallenge(deps, response.response?.clientDataJSON, "register");
  if (!signed || signed.userId !== userId) throw new WebAuthnError("challenge");
  if ((await store.listCredentials(deps.sql, userId)).length >= MAX_CREDENTIALS) throw new WebAuthnError("invalid");
  const rp = relyingParty(deps);
  // Outside the try: a library that fails to load is a server error, not a refused credential.
  const { verifyRegistrationResponse } = await webauthnLibrary();
  let info;
  try {
    const v = await verifyRegistrationResponse({ response, expectedChallenge: signed.challenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: true, supportedAlgorithmIDs: COSE_ALGS });
    if (!v.verified) throw new WebAuthnError("invalid");
    info = v.registrationInfo;
  } catch (err) {
    if (err instanceof WebAuthnError) throw err;
    throw new WebAuthnError("invalid");
  }
  // credProps.rk tells whether the credential is discoverable; absent, we asked for a resident key.
  const rk = (response.clientExtensionResults as { credProps?: { rk?: boolean } } | undefined)?.credProps?.rk;
  const row = {
    id: info.credential.id,
    user_id: userId,
    name: name.trim().slice(0, CREDENTIAL_NAME_MAX) || "Passkey",
    public_key: Buffer.from(info.credential.publicKey).toString("base64url"),
    sign_count: info.credential.counter,
    transports: (response.response.transports ?? []).filter((t) => typeof t === "string").slice(0, 8),
    device_type: info.credentialDeviceType,
    backed_up: info.credentialBackedUp,
    is_passkey: rk !== false && info.userVerified,
    aaguid: info.aaguid,
  };
  await store.insertCredential(deps.sql, row);
  return { ...row, sign_count: String(row.sign_count), created_at: new Date(), last_used_at: null };
}
