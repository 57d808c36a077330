// Signing in at server A through an upstream Authly server B (federation tests): from A's login
// page (its "Sign in with NAME" link) or an idp_hint redirect, through B's login and consent pages,
// back to A's callback; then the code of A's relying party exchanged for its ID token.
import { afterAll, expect } from "bun:test";
import { exportJWK, generateKeyPair, type CryptoKey } from "jose";
import { Browser, authorizeUrl, decodeEntities, isConsentPage, isLoginPage, pkce, type Page } from "./browser";
import type { OidcTestClient, OidcTestUser } from "./oidc-fixtures";
import { authParams, exchangeCode, jwtPayload } from "./oidc-flow";

export interface UpstreamSignIn {
  /** From A's page (a login page with the button, or a redirect to B) through B back to A. */
  throughB(browserA: Browser, browserB: Browser, bUser: OidcTestUser | undefined, first: Page): Promise<Page>;
  /** An authorization request of the RP at A, completed through B. */
  signInAtA(browserA: Browser, browserB: Browser, bUser: OidcTestUser | undefined, extra?: Record<string, string>): Promise<{ end: Page; verifier: string }>;
  /** The ID token claims the RP gets at A for the code A sent back. */
  subjectAtA(end: Page, verifier: string, client?: OidcTestClient): Promise<Record<string, any>>;
}

export function upstreamSignIn(o: { aUrl: string; bUrl: string; rp: OidcTestClient; button?: string }): UpstreamSignIn {
  const callback = `${o.aUrl}/federation/callback`;
  const button = o.button ?? "Authly B";
  const throughB: UpstreamSignIn["throughB"] = async (browserA, browserB, bUser, first) => {
    let page = first;
    if (!page.location) {
      const link = new RegExp(`<a class="button secondary" href="([^"]+)">Sign in with ${button}</a>`).exec(page.html);
      expect(link).not.toBeNull();
      page = await browserA.open(decodeEntities(link![1]!));
    }
    expect(page.location!.startsWith(`${o.bUrl}/oauth/authorize?`)).toBe(true);
    let at = await browserB.open(page.location!);
    if (isLoginPage(at)) at = await browserB.submit(at, "/login", { login: bUser!.username, password: bUser!.password });
    if (isConsentPage(at)) at = await browserB.submit(at, "/consent", { decision: "allow" });
    expect(at.location!.startsWith(callback)).toBe(true);
    return browserA.open(at.location!);
  };
  return {
    throughB,
    async signInAtA(browserA, browserB, bUser, extra = {}) {
      const { verifier, challenge } = pkce();
      const start = await browserA.open(authorizeUrl(authParams(o.rp, challenge, extra)));
      return { end: await throughB(browserA, browserB, bUser, start), verifier };
    },
    async subjectAtA(end, verifier, client = o.rp) {
      expect(end.location?.startsWith(client.redirect_uri)).toBe(true);
      const code = new URL(end.location!).searchParams.get("code")!;
      const t = await exchangeCode({ request: (p, init) => fetch(o.aUrl + p, init) }, client, code, verifier);
      expect(t.status).toBe(200);
      return jwtPayload(t.body.id_token!);
    },
  };
}

/** An upstream provider's signing key for the one-rule-at-a-time tests: an ES256 key pair whose
 *  public half is served as a JWK Set on loopback (kid "k1"), and another pair it never published.
 *  Stopped after the file. */
export async function serveUpstreamJwks(): Promise<{ good: { privateKey: CryptoKey; publicKey: CryptoKey }; other: { privateKey: CryptoKey; publicKey: CryptoKey }; jwksUri: string }> {
  const good = await generateKeyPair("ES256");
  const other = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(good.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ keys: [jwk] }) });
  afterAll(() => server.stop(true));
  return { good, other, jwksUri: `http://127.0.0.1:${server.port}/jwks` };
}
