// Runs the real front channel like a relying party and its user would: authorization request,
// login form, consent form, callback, then the token endpoint.
import { afterAll } from "bun:test";
import type { TestApp } from "./app";
import { Browser, authorizeUrl, callbackParams, isConsentPage, isLoginPage, pkce, type Page } from "./browser";
import type { OidcTestClient, OidcTestUser } from "./oidc-fixtures";

export interface FlowResult {
  /** The parameters the client received at its redirect URI. */
  callback: Record<string, string>;
  location: string;
  verifier: string;
  /** Pages seen on the way (login, consent). */
  seen: { login: boolean; consent: boolean };
}

export function authParams(client: OidcTestClient, challenge: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { client_id: client.client_id, redirect_uri: client.redirect_uri, response_type: "code", scope: "openid", state: "st-" + Math.random().toString(36).slice(2), nonce: "n-" + Math.random().toString(36).slice(2), code_challenge: challenge, code_challenge_method: "S256", ...extra };
}

/** Authorization request -> (login) -> (consent: allow) -> callback. Throws if the flow stops on a page. */
export async function signIn(b: Browser, client: OidcTestClient, user: OidcTestUser | undefined, extra: Record<string, string | undefined> = {}): Promise<FlowResult> {
  const { verifier, challenge } = pkce();
  let page: Page = await b.open(authorizeUrl(authParams(client, challenge, extra)));
  const seen = { login: false, consent: false };
  if (isLoginPage(page)) {
    if (!user) throw new Error("login page shown but no user given");
    seen.login = true;
    page = await b.submit(page, "/login", { login: user.username, password: user.password });
  }
  if (isConsentPage(page)) {
    seen.consent = true;
    page = await b.submit(page, "/consent", { decision: "allow" });
  }
  if (!page.location) throw new Error(`flow stopped at ${page.url} (${page.status}):\n${page.html.slice(0, 1500)}`);
  return { callback: callbackParams(page.location), location: page.location, verifier, seen };
}

export interface Tokens {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  scope: string;
  token_type: string;
  expires_in: number;
}

export async function exchangeCode(t: Pick<TestApp, "request">, client: OidcTestClient, code: string, verifier: string): Promise<{ status: number; body: Tokens & { error?: string } }> {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  const form: Record<string, string> = { grant_type: "authorization_code", code, redirect_uri: client.redirect_uri, code_verifier: verifier };
  if (client.client_secret) headers.authorization = `Basic ${btoa(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`)}`;
  else form.client_id = client.client_id;
  const r = await t.request("/oauth/token", { method: "POST", headers, body: new URLSearchParams(form).toString() });
  return { status: r.status, body: (await r.json()) as Tokens & { error?: string } };
}

/** The decoded payload of a JWT (no verification: tests that need it verify through the JWKS). */
export function jwtPayload(jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString("utf8"));
}

/** A relying party's back-channel logout endpoint on loopback (OIDC Back-Channel Logout 1.0 §2.5):
 *  keeps every logout_token it is sent, in order, and answers 200. Stopped after the file. */
export function startLogoutReceiver(): { uri: string; tokens: string[] } {
  const tokens: string[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      tokens.push(new URLSearchParams(await req.text()).get("logout_token") ?? "");
      return new Response(null, { status: 200 });
    },
  });
  afterAll(() => server.stop(true));
  return { uri: `http://127.0.0.1:${server.port}/bc`, tokens };
}

export { Browser };
