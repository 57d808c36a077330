// Languages, themes and error pages (issue 17) over real HTTP against a running server: the login
// page in each shipped language, locale negotiation (ui_locales remembered in the interaction, the
// user's locale claim, Accept-Language with q-values, English fallback), discovery's
// ui_locales_supported, branding server-wide vs per client through the admin API (CSS injection
// refused, nothing written), the theme stylesheet, logos never hot-linked, the authorization
// endpoint's error pages with the request id and an info log line, and a mail in the user's language.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { log, setLogLevel } from "../../src/log";
import { LOCALES } from "../../src/i18n";
import { startAdminApi } from "../support/admin";
import { authorizeUrl, Browser, isConsentPage, pkce, type Page } from "../support/browser";
import { authParams } from "../support/oidc-flow";
import { createOidcClient, createOidcUser } from "../support/oidc-fixtures";
import { freePort } from "../support/app";

// Mail is configured (to a closed loopback port) so that "Forgot password?" is offered; the outbox keeps the mail.
const a = await startAdminApi({ AUTHLY_SMTP_URL: `smtp://127.0.0.1:${await freePort()}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "3600" });
const { challenge } = pkce();
const client = await createOidcClient(a.deps, { client_name: "Foto App" });
const other = await createOidcClient(a.deps, { client_name: "Other App" });
const user = await createOidcUser(a.deps, { name: "Ada Lovelace", email: "ada@example.test" });

/** The authorization request in a browser that sends `headers` (Accept-Language) with every request. */
const open = (b: Browser, extra: Record<string, string> = {}, headers: Record<string, string> = {}, c = client) => {
  Object.assign(b.headers, headers);
  return b.open(authorizeUrl(authParams(c, challenge, extra)));
};
const h1 = (p: Page) => p.html.match(/<h1>([^<]*)<\/h1>/)?.[1];
const lang = (p: Page) => p.html.match(/<html lang="([^"]+)"/)?.[1];

const LOGIN_WORDS: Record<string, { title: string; password: string; submit: string; forgot: string }> = {
  en: { title: "Sign in", password: "Password", submit: "Sign in", forgot: "Forgot password?" },
  de: { title: "Anmelden", password: "Passwort", submit: "Anmelden", forgot: "Passwort vergessen?" },
  fr: { title: "Connexion", password: "Mot de passe", submit: "Se connecter", forgot: "Mot de passe oublié ?" },
  es: { title: "Iniciar sesión", password: "Contraseña", submit: "Iniciar sesión", forgot: "¿Olvidó su contraseña?" },
};

describe("languages", () => {
  test("discovery advertises exactly the shipped languages (ui_locales_supported, OIDC Discovery §3)", async () => {
    const d = await (await fetch(`${a.url}/.well-known/openid-configuration`)).json();
    expect(d.ui_locales_supported).toEqual(["en", "de", "fr", "es"]);
    expect(d.ui_locales_supported).toEqual([...LOCALES]);
  });

  for (const locale of LOCALES) {
    test(`the login page renders in ${locale} (ui_locales=${locale}), <html lang> set, no English left on it`, async () => {
      const page = await open(Browser.forServer(a.url), { ui_locales: locale });
      const w = LOGIN_WORDS[locale]!;
      expect(page.status).toBe(200);
      expect(lang(page)).toBe(locale);
      expect(h1(page)).toBe(w.title);
      expect(page.html).toContain(`<label for="password">${w.password}</label>`);
      expect(page.html).toContain(`<button type="submit" class="primary">${w.submit}</button>`);
      expect(page.html).toContain(w.forgot.replaceAll("'", "&#39;"));
      expect(page.html).toContain("<strong>Foto App</strong>");
      if (locale !== "en") for (const english of ["Username or email", "Forgot password?", "Secured by", ">Cancel<"]) expect(page.html).not.toContain(english);
    });
  }

  test("ui_locales: the first shipped one wins and is remembered by the interaction (the failed-login page keeps it)", async () => {
    const b = Browser.forServer(a.url);
    const page = await open(b, { ui_locales: "ja fr-CA de" }, { "accept-language": "es" });
    expect(lang(page)).toBe("fr");
    // The form post carries no ui_locales: the interaction remembered it.
    const failed = await b.submit(page, "/login", { login: user.username, password: "wrong password!" }, {});
    expect(failed.status).toBe(401);
    expect(lang(failed)).toBe("fr");
    expect(failed.html).toContain("Le nom d&#39;utilisateur ou le mot de passe est incorrect.");
  });

  test("Accept-Language with q-values chooses when there is no ui_locales; an unsupported one falls back to English", async () => {
    expect(lang(await open(Browser.forServer(a.url), {}, { "accept-language": "fr;q=0.5, es;q=0.9" }))).toBe("es");
    expect(lang(await open(Browser.forServer(a.url), {}, { "accept-language": "ja, de-CH;q=0.3" }))).toBe("de");
    const english = await open(Browser.forServer(a.url), {}, { "accept-language": "ja, zh;q=0.5" });
    expect(lang(english)).toBe("en");
    expect(h1(english)).toBe("Sign in");
  });

  test("a signed-in user's locale claim beats Accept-Language (consent page), ui_locales beats both", async () => {
    const es = await createOidcUser(a.deps, { name: "Emilia" });
    await a.deps.sql`UPDATE users SET locale = 'es-MX' WHERE username = ${es.username}`;
    const b = Browser.forServer(a.url);
    let page = await open(b, {}, { "accept-language": "de" });
    expect(lang(page)).toBe("de");
    page = await b.submit(page, "/login", { login: es.username, password: es.password });
    expect(isConsentPage(page)).toBe(true);
    expect(lang(page)).toBe("es");
    expect(page.html).toContain("quiere acceder a su cuenta");
    expect(page.html).toContain(">Permitir</button>");

    const b2 = Browser.forServer(a.url);
    let p2 = await open(b2, { ui_locales: "fr" }, { "accept-language": "de" });
    p2 = await b2.submit(p2, "/login", { login: es.username, password: es.password });
    expect(lang(p2)).toBe("fr");
    expect(p2.html).toContain("souhaite accéder à votre compte");
  });

  test("the reset mail speaks the page's language when the user has no locale claim (a claim would win: the requester may not be the owner)", async () => {
    await a.deps.sql`UPDATE users SET locale = NULL WHERE username = ${user.username}`;
    const b = Browser.forServer(a.url, { "accept-language": "de" });
    const forgot = await b.open("/password/forgot");
    expect(h1(forgot)).toBe("Passwort zurücksetzen");
    const sent = await b.open("/password/forgot", { method: "POST", headers: { "accept-language": "de", "content-type": "application/x-www-form-urlencoded" }, body: `email=${encodeURIComponent(user.email!)}` });
    expect(h1(sent)).toBe("Prüfen Sie Ihre E-Mails");
    // The mail is queued after the answer (same timing for every address): wait for its row.
    let row: { subject: string; text_body: string; html_body: string } | undefined;
    for (let i = 0; i < 200 && !row; i++) {
      [row] = await a.deps.sql<{ subject: string; text_body: string; html_body: string }[]>`SELECT subject, text_body, html_body FROM mail_outbox WHERE recipient = ${user.email!} AND kind = 'password_reset'`;
      if (!row) await Bun.sleep(25);
    }
    expect(row?.subject).toBe("Passwort zurücksetzen");
    expect(row!.text_body).toContain("Öffnen Sie diesen Link innerhalb von 30 Minuten");
    expect(row!.html_body).toContain('<html lang="de">');
  });
});

test("the form_post page (seen only without JavaScript) speaks the browser's language", async () => {
  const r = await fetch(`${a.url}${authorizeUrl(authParams(client, challenge, { response_mode: "form_post", response_type: "token" }))}`, { headers: { "accept-language": "es" } });
  const html = await r.text();
  expect(html).toContain('<html lang="es">');
  expect(html).toContain('<input type="hidden" name="error" value="unsupported_response_type">');
  expect(html).toContain("<noscript><button type=\"submit\">Continuar</button></noscript>");
});

describe("branding", () => {
  test("server-wide branding through the admin API shows on every page; a client's own branding only on its pages", async () => {
    const set = await a.call("PATCH", "/admin/branding", { body: { product_name: "Acme ID", primary_colour: "#B00020" } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ client_id: null, product_name: "Acme ID", primary_colour: "#b00020", stylesheet: null });
    const logo = `data:image/svg+xml;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#0a0"/></svg>').toString("base64")}`;
    const mine = await a.call("PATCH", `/admin/clients/${client.client_id}/branding`, { body: { product_name: "Foto Login", primary_colour: "rebeccapurple", logo_uri: logo, stylesheet: "main{border-radius:0}" } });
    expect(mine.status).toBe(200);
    expect((await a.call("GET", `/admin/clients/${client.client_id}/branding`)).body).toMatchObject({ client_id: client.client_id, product_name: "Foto Login", primary_colour: "rebeccapurple" });

    // Pages read branding through a 5-second cache per process: wait it out, boundedly.
    const deadline = Date.now() + 15_000;
    let page = await open(Browser.forServer(a.url));
    while (!page.html.includes("Foto Login") && Date.now() < deadline) {
      await Bun.sleep(250);
      page = await open(Browser.forServer(a.url));
    }
    expect(page.html).toContain("<title>Sign in · Foto Login</title>");
    expect(page.html).toContain(`<p class="brand"><img src="${logo}" alt=""><span>Foto Login</span></p>`);
    expect(page.html).toContain("<footer>Secured by Foto Login</footer>");
    const href = page.html.match(/<link rel="stylesheet" href="([^"]+)">/)![1]!.replaceAll("&amp;", "&");
    expect(href).toContain(`client=${client.client_id}`);
    const css = await fetch(a.url + href);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(css.headers.get("x-content-type-options")).toBe("nosniff");
    const text = await css.text();
    expect(text).toContain("--primary:rebeccapurple");
    expect(text).toContain("main{border-radius:0}");
    // The page's CSP lets only our stylesheets in.
    expect(page.headers.get("content-security-policy")).toMatch(/style-src 'sha256-[^']+' 'self';/);

    // Another client: the server-wide branding.
    const theirs = await open(Browser.forServer(a.url), {}, {}, other);
    expect(theirs.html).toContain("<title>Sign in · Acme ID</title>");
    expect(theirs.html).not.toContain("Foto Login");
    const theirCss = await (await fetch(a.url + theirs.html.match(/<link rel="stylesheet" href="([^"]+)">/)![1]!.replaceAll("&amp;", "&"))).text();
    expect(theirCss).toContain("--primary:#b00020");
    expect(theirCss).not.toContain("border-radius:0");

    // Reset the client: its pages follow the server-wide branding again.
    expect((await a.call("DELETE", `/admin/clients/${client.client_id}/branding`)).status).toBe(200);
    expect((await a.call("DELETE", "/admin/branding")).body).toMatchObject({ product_name: null });
    const audit = await a.deps.sql`SELECT action FROM audit_log WHERE action LIKE 'branding.%' ORDER BY id`;
    expect(audit.map((r) => r.action)).toEqual(["branding.set", "branding.set", "branding.reset", "branding.reset"]);
  });

  test("CSS injection through a colour or the stylesheet is refused with validation_error naming the fields, and nothing is written", async () => {
    await a.call("PATCH", "/admin/branding", { body: { primary_colour: "#123456" } });
    const bad = await a.call("PATCH", "/admin/branding", {
      body: { primary_colour: "red;}body{background:url(https://evil.example/x)}", text_colour: "</style><script>alert(1)</script>", stylesheet: "input[value^=a]{background:url(https://evil.example/a)}", product_name: "Fine" },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("validation_error");
    expect(bad.body.fields.map((f: { field: string }) => f.field).sort()).toEqual(["primary_colour", "stylesheet", "text_colour"]);
    expect(JSON.stringify(bad.body)).not.toContain("evil.example");
    const now = (await a.call("GET", "/admin/branding")).body;
    expect(now).toMatchObject({ primary_colour: "#123456", product_name: null, stylesheet: null });
    expect((await a.call("PATCH", "/admin/branding", { body: { logo_uri: "javascript:alert(1)" } })).status).toBe(400);
    expect((await a.call("PATCH", "/admin/branding", { body: { unknown: "x" } })).status).toBe(400);
    expect((await a.call("PATCH", "/admin/clients/no-such-client/branding", { body: { product_name: "x" } })).status).toBe(404);
    await a.call("DELETE", "/admin/branding");
  });

  test("an https client logo_uri is fetched by the server (outbound rules, size and type checked), cached and inlined as a data: URI", async () => {
    // A real TLS server on loopback (dev mode allows loopback destinations) with a throwaway
    // self-signed certificate; this process trusts it for the duration of this test only.
    const dir = mkdtempSync(join(tmpdir(), "authly-logo-tls-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const made = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
    expect(made.exitCode).toBe(0);
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
    const hits = new Map<string, number>();
    const tls = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      tls: { key: Bun.file(join(dir, "k.pem")), cert: Bun.file(join(dir, "c.pem")) },
      fetch(req) {
        const path = new URL(req.url).pathname;
        hits.set(path, (hits.get(path) ?? 0) + 1);
        if (path === "/logo.png") return new Response(png, { headers: { "content-type": "image/png" } });
        if (path === "/big.png") return new Response(Buffer.alloc(100_000), { headers: { "content-type": "image/png" } });
        return new Response("<html>not an image</html>", { headers: { "content-type": "text/html" } });
      },
    });
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    try {
      const base = `https://127.0.0.1:${tls.port}`;
      const good = await createOidcClient(a.deps, { client_name: "Logo App", logo_uri: `${base}/logo.png` });
      for (let i = 0; i < 2; i++) {
        const page = await open(Browser.forServer(a.url), {}, {}, good);
        expect(page.html).toContain(`<div class="app"><img src="data:image/png;base64,${png.toString("base64")}" alt="" width="48" height="48">`);
        expect(page.html).not.toContain(`${base}/logo.png`);
      }
      expect(hits.get("/logo.png")).toBe(1);
      for (const path of ["/big.png", "/page.html"]) {
        const c = await createOidcClient(a.deps, { client_name: "No Logo", logo_uri: `${base}${path}` });
        const page = await open(Browser.forServer(a.url), {}, {}, c);
        expect(page.status).toBe(200);
        expect(page.html).not.toContain('<div class="app">');
        expect(page.html).not.toContain(base);
      }
    } finally {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
      tls.stop(true);
    }
  });

  test("a client logo_uri that does not load is never hot-linked: no image at all rather than a broken one", async () => {
    const c = await createOidcClient(a.deps, { client_name: "Zebra", logo_uri: "https://logo.invalid/z.png" });
    const page = await open(Browser.forServer(a.url), {}, {}, c);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain("logo.invalid");
    expect(page.html).not.toContain('<div class="app">');
  });
});

describe("error pages of the authorization endpoint", () => {
  test("an unknown client: plain words, what to do next, the request id, in the browser's language; the log says why at info", async () => {
    const lines: string[] = [];
    const reporter = { log: (o: { type: string; args: unknown[] }) => void lines.push(`${o.type} ${o.args.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(" ")}`) };
    log.addReporter(reporter);
    setLogLevel("info");
    try {
      const r = await fetch(`${a.url}/oauth/authorize?client_id=nobody&redirect_uri=https://x.example/cb&response_type=code`, { headers: { "accept-language": "de" } });
      expect(r.status).toBe(400);
      const html = await r.text();
      const id = r.headers.get("x-request-id")!;
      expect(id).toBeTruthy();
      expect(html).toContain('<html lang="de">');
      expect(html).toContain("<h1>Unbekannte Anwendung</h1>");
      expect(html).toContain("ist bei diesem Server nicht registriert");
      expect(html).toContain("Kehren Sie zur Anwendung zurück");
      expect(html).toContain(`Anfrage-ID: ${id}`);
      expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(r.headers.get("location")).toBeNull();
      const line = lines.find((l) => l.includes(id) && l.includes("front-channel error page"));
      expect(line).toStartWith("info");
      expect(line).toContain("invalid_client");
      expect(line).toContain("not registered");
    } finally {
      log.removeReporter(reporter);
      setLogLevel(a.deps.config.logLevel);
    }
  });

  test("a redirect_uri that is not registered is never redirected: its own page with the request id (ui_locales=es)", async () => {
    const r = await fetch(`${a.url}${authorizeUrl(authParams(client, challenge, { redirect_uri: "https://evil.example/cb", ui_locales: "es" }))}`, { redirect: "manual" });
    expect(r.status).toBe(400);
    expect(r.headers.get("location")).toBeNull();
    const html = await r.text();
    expect(html).toContain("<h1>No se puede volver a la aplicación</h1>");
    expect(html).toContain(`Id. de solicitud: ${r.headers.get("x-request-id")}`);
    // The technical reason stays available to the application's developer.
    expect(html).toContain("does not match any redirect URI registered");
  });

  test("an expired or unknown interaction: the same design, what to do next, the request id", async () => {
    const r = await fetch(`${a.url}/interaction/not-a-live-interaction-id-0000000000`, { headers: { "accept-language": "fr" } });
    expect(r.status).toBe(400);
    const html = await r.text();
    expect(html).toContain("<h1>Demande expirée</h1>");
    expect(html).toContain("Revenez à l&#39;application et recommencez.");
    expect(html).toContain(`Identifiant de la requête : ${r.headers.get("x-request-id")}`);
  });
});
