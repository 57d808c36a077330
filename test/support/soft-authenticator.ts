// A software WebAuthn authenticator for integration tests (WebAuthn Level 3 §6): an ES256 key pair,
// authenticator data with its flags and signature counter, attestation objects ("none", or "packed"
// self attestation) and assertions, as a browser would post them as JSON. The real server checks
// them with @simplewebauthn/server; the browser tests use Chromium's own virtual authenticator.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { isoCBOR } from "@simplewebauthn/server/helpers";

const b64u = (b: Uint8Array | Buffer) => Buffer.from(b).toString("base64url");
const sha256 = (b: Uint8Array | Buffer | string) => createHash("sha256").update(b).digest();

export interface Ceremony {
  challenge: string;
  origin: string;
  rpId: string;
}

export class SoftAuthenticator {
  readonly credentialId = randomBytes(16);
  private readonly key: { privateKey: KeyObject; publicKey: KeyObject };
  counter = 0;
  userHandle?: string;

  constructor(readonly opts: { synced?: boolean } = {}) {
    this.key = generateKeyPairSync("ec", { namedCurve: "P-256" });
  }

  get id(): string {
    return b64u(this.credentialId);
  }

  private coseKey(): Uint8Array {
    const jwk = this.key.publicKey.export({ format: "jwk" }) as { x: string; y: string };
    return isoCBOR.encode(new Map<number, number | Uint8Array>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, "base64url")], [-3, Buffer.from(jwk.y, "base64url")]]));
  }

  private authData(rpId: string, flags: { uv: boolean; attested: boolean }, counter: number): Buffer {
    let f = 0x01; // UP
    if (flags.uv) f |= 0x04;
    if (this.opts.synced) f |= 0x08 | 0x10; // BE + BS: a backed-up multi-device credential
    if (flags.attested) f |= 0x40;
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    const parts = [sha256(rpId), Buffer.from([f]), count];
    if (flags.attested) {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(this.credentialId.length);
      parts.push(Buffer.alloc(16), len, this.credentialId, Buffer.from(this.coseKey()));
    }
    return Buffer.concat(parts);
  }

  private clientData(type: string, c: Ceremony): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge: c.challenge, origin: c.origin, crossOrigin: false }));
  }

  /** The JSON of navigator.credentials.create(): attestation "none" unless `fmt` says otherwise. */
  register(c: Ceremony & { userId: string; uv?: boolean; fmt?: "none" | "packed" | "unknown-format"; rk?: boolean }): Record<string, unknown> {
    this.userHandle = c.userId;
    const clientDataJSON = this.clientData("webauthn.create", c);
    const authData = this.authData(c.rpId, { uv: c.uv ?? true, attested: true }, this.counter);
    const fmt = c.fmt ?? "none";
    const attStmt = fmt === "packed" ? new Map<string, number | Uint8Array>([["alg", -7], ["sig", sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), this.key.privateKey)]]) : new Map();
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([["fmt", fmt], ["attStmt", attStmt], ["authData", authData]]) as never);
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      clientExtensionResults: c.rk === false ? { credProps: { rk: false } } : { credProps: { rk: true } },
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ["internal"] },
    };
  }

  /** The JSON of navigator.credentials.get(); `counter` overrides the next signature counter. */
  assert(c: Ceremony & { uv?: boolean; counter?: number; withUserHandle?: boolean }): Record<string, unknown> {
    this.counter = c.counter ?? this.counter + 1;
    const clientDataJSON = this.clientData("webauthn.get", c);
    const authData = this.authData(c.rpId, { uv: c.uv ?? true, attested: false }, this.counter);
    const signature = sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), this.key.privateKey);
    return {
      id: this.id,
      rawId: this.id,
      type: "public-key",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64u(clientDataJSON),
        authenticatorData: b64u(authData),
        signature: b64u(signature),
        userHandle: c.withUserHandle === false || !this.userHandle ? undefined : this.userHandle,
      },
    };
  }
}

/** The data- attribute of a WebAuthn form on a page (decoded). */
export function dataAttr(html: string, formMarker: string, name: string): string {
  const form = new RegExp(`<form[^>]*data-webauthn="${formMarker}"[^>]*>`).exec(html)?.[0];
  if (!form) throw new Error(`no data-webauthn="${formMarker}" form in:\n${html.slice(0, 1500)}`);
  const m = new RegExp(`data-${name}="([^"]*)"`).exec(form);
  if (!m) throw new Error(`no data-${name} on ${form}`);
  return m[1]!.replaceAll("&quot;", '"').replaceAll("&amp;", "&");
}
