// The sign-in flow as a browser drives it, for `bun run bench` (bench/peer.ts): the authorization
// request, the login form, the consent form, the redirect with the code, the token request, then
// UserInfo. One driver for Authly and for the peer: it follows the server's redirects with a cookie
// jar, and on each page submits the form that has a password field (filling login and password) or
// the consent form (decision=allow), with the page's hidden fields. Nothing about either server is
// hard-coded but those field names.
import { createHash, randomBytes } from "node:crypto";

export interface FlowServer {
  name: string;
  origin: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  userinfoEndpoint: string;
  introspectionEndpoint: string;
}

export interface FlowClient {
  clientId: string;
  redirectUri: string;
  scope: string;
}

export class CookieJar {
  private readonly cookies = new Map<string, string>();
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
  store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const i = pair!.indexOf("=");
      const name = pair!.slice(0, i).trim();
      const expired = attrs.some((a) => /^\s*max-age=(0|-)/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair!.slice(i + 1).trim());
    }
  }
}

export async function discover(name: string, origin: string): Promise<FlowServer> {
  const r = await fetch(`${origin}/.well-known/openid-configuration`);
  if (!r.ok) throw new Error(`${name}: discovery answered ${r.status}`);
  const d = (await r.json()) as Record<string, string>;
  return { name, origin, authorizationEndpoint: d.authorization_endpoint!, tokenEndpoint: d.token_endpoint!, userinfoEndpoint: d.userinfo_endpoint!, introspectionEndpoint: d.introspection_endpoint! };
}

const unescapeHtml = (s: string) => s.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
const attr = (tag: string, name: string) => {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, "i").exec(tag);
  return m ? unescapeHtml(m[2] ?? m[3] ?? "") : undefined;
};

/** The form to submit on a page and its fields: the sign-in form, else the consent form. */
function pickForm(html: string, login: { username: string; password: string }): { action: string; fields: URLSearchParams } {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].filter((f) => (attr(f[1]!, "method") ?? "get").toLowerCase() === "post");
  const signIn = forms.find((f) => /type\s*=\s*["']password["']/i.test(f[2]!));
  const consent = forms.find((f) => /name\s*=\s*["']decision["']/i.test(f[2]!));
  const form = signIn ?? consent;
  if (!form) throw new Error(`no sign-in or consent form on the page:\n${html.slice(0, 800)}`);
  const fields = new URLSearchParams();
  for (const input of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
    if ((attr(input[0], "type") ?? "").toLowerCase() !== "hidden") continue;
    const name = attr(input[0], "name");
    if (name) fields.set(name, attr(input[0], "value") ?? "");
  }
  if (signIn) {
    fields.set("login", login.username);
    fields.set("password", login.password);
  } else fields.set("decision", "allow");
  return { action: attr(form[1]!, "action") ?? "", fields };
}

export interface SignInResult {
  accessToken: string;
  refreshToken?: string;
  /** Forms submitted on the way (2 for a first sign-in with consent, 0 through the SSO session). */
  forms: number;
}

/** Authorization request up to the code; `exchange` then the token request and UserInfo. */
export async function authorize(s: FlowServer, client: FlowClient, jar: CookieJar, login: { username: string; password: string }): Promise<{ code: string; verifier: string; forms: number }> {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(12).toString("base64url");
  const q = new URLSearchParams({ response_type: "code", client_id: client.clientId, redirect_uri: client.redirectUri, scope: client.scope, state, nonce: randomBytes(12).toString("base64url"), code_challenge: challenge, code_challenge_method: "S256" });
  let url = `${s.authorizationEndpoint}?${q}`;
  let init: RequestInit = {};
  let forms = 0;
  for (let step = 0; step < 20; step++) {
    const headers = new Headers(init.headers);
    const cookie = jar.header();
    if (cookie) headers.set("cookie", cookie);
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    jar.store(res);
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      const next = new URL(res.headers.get("location")!, url);
      if (next.toString().startsWith(client.redirectUri)) {
        const code = next.searchParams.get("code");
        if (!code || next.searchParams.get("state") !== state) throw new Error(`${s.name}: callback without code: ${next}`);
        return { code, verifier, forms };
      }
      url = next.toString();
      init = {};
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`${s.name}: ${res.status} at ${url}: ${html.slice(0, 400)}`);
    const form = pickForm(html, login);
    forms++;
    url = new URL(form.action, url).toString();
    init = { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.fields.toString() };
  }
  throw new Error(`${s.name}: the flow did not reach the client in 20 steps`);
}

export async function exchange(s: FlowServer, client: FlowClient, code: string, verifier: string): Promise<{ accessToken: string; refreshToken?: string }> {
  const r = await fetch(s.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: client.clientId }).toString(),
  });
  const body = (await r.json()) as { access_token?: string; refresh_token?: string; id_token?: string };
  if (r.status !== 200 || !body.access_token || !body.id_token) throw new Error(`${s.name}: code exchange answered ${r.status} ${JSON.stringify(body).slice(0, 300)}`);
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

export async function userinfo(s: FlowServer, accessToken: string): Promise<void> {
  const r = await fetch(s.userinfoEndpoint, { headers: { authorization: `Bearer ${accessToken}` } });
  const body = (await r.json()) as { sub?: string };
  if (r.status !== 200 || !body.sub) throw new Error(`${s.name}: UserInfo answered ${r.status}`);
}

/** The whole flow: authorize (forms as needed) -> code -> token -> UserInfo. */
export async function signIn(s: FlowServer, client: FlowClient, jar: CookieJar, login: { username: string; password: string }): Promise<SignInResult> {
  const { code, verifier, forms } = await authorize(s, client, jar, login);
  const tokens = await exchange(s, client, code, verifier);
  await userinfo(s, tokens.accessToken);
  return { ...tokens, forms };
}

/**
 * `workers` concurrent loops of `once` for `seconds` (bounded: also at most `maxOps` operations);
 * completed operations per second, and the errors (the first one kept for the report).
 */
export async function closedLoop(workers: number, seconds: number, maxOps: number, once: (worker: number) => Promise<void>): Promise<{ perSecond: number; done: number; errors: number; firstError?: string }> {
  let done = 0;
  let errors = 0;
  let started = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      while (performance.now() < end && started < maxOps) {
        started++;
        try {
          await once(w);
          done++;
        } catch (err) {
          errors++;
          firstError ??= String((err as Error).message ?? err).slice(0, 300);
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return { perSecond: done / elapsed, done, errors, firstError };
}
