// A minimal browser for driving the real HTML pages: a cookie jar, manual redirects (so a test
// sees where each step leads), and form extraction from the served HTML. Works with app.handle
// (createTestApp) or fetch against a running server.
import { randomToken, sha256 } from "../../src/lib/crypto";

export type Send = (url: string, init: RequestInit) => Promise<Response>;

export interface Page {
  status: number;
  url: string;
  headers: Headers;
  html: string;
  /** Set when the last response redirected away from the server (e.g. to the client). */
  location?: string;
}

export class Browser {
  readonly jar = new Map<string, string>();
  /** Headers a browser sends with every request (e.g. Accept-Language). */
  readonly headers: Record<string, string> = {};
  constructor(
    private readonly send: Send,
    readonly origin: string,
  ) {}

  static forApp(t: { request(path: string, init?: RequestInit): Promise<Response>; issuer: string }): Browser {
    return new Browser((url, init) => t.request(url.startsWith(t.issuer) ? url.slice(t.issuer.length) || "/" : url, init), t.issuer);
  }

  /** A browser of a server on a real port; `headers` it sends with every request (e.g. Accept-Language). */
  static forServer(url: string, headers: Record<string, string> = {}): Browser {
    const b = new Browser((u, init) => fetch(u.startsWith("http") ? u : url + u, { ...init, redirect: "manual" }), url);
    Object.assign(b.headers, headers);
    return b;
  }

  cookieHeader(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(";");
      const i = pair!.indexOf("=");
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      const maxAge = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith("max-age="));
      if (maxAge && Number(maxAge.split("=")[1]) <= 0) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(this.headers)) if (!headers.has(k)) headers.set(k, v);
    if (this.jar.size) headers.set("cookie", this.cookieHeader());
    if (!headers.has("user-agent")) headers.set("user-agent", "authly-test-browser");
    const res = await this.send(url, { ...init, headers, redirect: "manual" });
    this.store(res);
    return res;
  }

  /** Loads a URL and follows redirects inside the server; stops at a page or an outside redirect. */
  async open(url: string, init: RequestInit = {}): Promise<Page> {
    let res = await this.request(url, init);
    let current = url;
    for (let hops = 0; hops < 10 && [301, 302, 303, 307].includes(res.status); hops++) {
      const loc = new URL(res.headers.get("location")!, this.absolute(current)).toString();
      if (!loc.startsWith(this.origin + "/")) return { status: res.status, url: current, headers: res.headers, html: await res.text(), location: loc };
      current = loc;
      res = await this.request(loc);
    }
    return { status: res.status, url: current, headers: res.headers, html: await res.text() };
  }

  /** Submits a form of `page` whose action ends with `actionSuffix`, with its hidden fields plus `fields`. */
  async submit(page: Page, actionSuffix: string, fields: Record<string, string> = {}, opts: { omit?: string[] } = {}): Promise<Page> {
    const form = findForm(page.html, actionSuffix);
    const data = new URLSearchParams({ ...form.hidden, ...fields });
    for (const o of opts.omit ?? []) data.delete(o);
    return this.open(this.absolute(form.action), { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: data.toString() });
  }

  absolute(url: string): string {
    return url.startsWith("http") ? url : this.origin + url;
  }
}

export function decodeEntities(s: string): string {
  return s.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

export function findForm(html: string, actionSuffix: string): { action: string; hidden: Record<string, string> } {
  const forms = [...html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)];
  const f = forms.find((m) => decodeEntities(m[1]!).endsWith(actionSuffix));
  if (!f) throw new Error(`no form with action ending in ${actionSuffix} in:\n${html.slice(0, 2000)}`);
  const hidden: Record<string, string> = {};
  for (const m of f[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) hidden[decodeEntities(m[1]!)] = decodeEntities(m[2]!);
  return { action: decodeEntities(f[1]!), hidden };
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomToken(32);
  return { verifier, challenge: sha256(verifier) };
}

export function authorizeUrl(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return `/oauth/authorize?${q}`;
}

/** Parameters of a redirect to the client (query). */
export function callbackParams(location: string): Record<string, string> {
  return Object.fromEntries(new URL(location).searchParams);
}

/** The login form of an interaction, in whatever language the page speaks (src/i18n). */
export function isLoginPage(p: Page): boolean {
  return p.status < 400 && /<form method="post" action="[^"]*\/interaction\/[^"/]+\/login"/.test(p.html);
}

/** The consent form of an interaction, in whatever language the page speaks. */
export function isConsentPage(p: Page): boolean {
  return /<form method="post" action="[^"]*\/interaction\/[^"/]+\/consent"/.test(p.html);
}
