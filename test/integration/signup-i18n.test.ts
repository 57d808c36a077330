// Self sign-up, invites and the account page's self-service forms in the user's language (issue 17)
// over real HTTP against a running server: the language of the authorization request carried from
// the login page's "Create an account" into the form, its problems and the mails; the confirmation
// page in the browser's language; a mail to an existing account in that account's locale claim;
// the account page's profile, email and password sections, their problems and the email-change
// mails in the user's locale claim. Mail goes to a closed loopback port, so the outbox keeps it.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { en } from "../../src/i18n/en";
import { CATALOGUES, type MessageKey } from "../../src/i18n";
import { settleSignupRequests } from "../../src/account/signup";
import { settlePasswordResetRequests } from "../../src/account/password-reset";
import { freePort } from "../support/app";
import { startAdminApi } from "../support/admin";
import { authorizeUrl, Browser, findForm, isLoginPage, pkce, type Page } from "../support/browser";
import { authParams } from "../support/oidc-flow";
import { createOidcClient, createOidcUser, type OidcTestUser } from "../support/oidc-fixtures";
import { linkIn } from "../support/smtp";

setDefaultTimeout(120_000);

const api = await startAdminApi({
  AUTHLY_SMTP_URL: `smtp://127.0.0.1:${await freePort()}?tls=off`,
  AUTHLY_MAIL_FROM: "authly@example.test",
  AUTHLY_MAIL_RETRY_SECONDS: "3600",
  AUTHLY_SIGNUP: "open",
  AUTHLY_SIGNUP_RATE_LIMIT: "1000",
});
const deps = api.deps;
const rp = await createOidcClient(deps, { require_consent: false, scopes: ["openid", "email"] });

const lang = (p: Page) => p.html.match(/<html lang="([^"]+)"/)?.[1];
const h1 = (p: Page) => p.html.match(/<h1>([^<]*)<\/h1>/)?.[1];
/** A catalogue text as the page escapes it. */
const shown = (locale: "en" | "de" | "fr" | "es", key: MessageKey, params: Record<string, string | number> = {}) =>
  (CATALOGUES[locale][key] as string).replace(/\{(\w+)\}/g, (_, n: string) => String(params[n])).replaceAll("&", "&amp;").replaceAll("'", "&#39;").replaceAll('"', "&quot;");
/** English texts of these keys that must not be left on a translated page. */
const noEnglish = (p: Page, keys: MessageKey[]) => expect(keys.map((k) => en[k]).filter((text) => p.html.includes(text.replaceAll("'", "&#39;")))).toEqual([]);

async function outbox(recipient: string, kind: string): Promise<{ subject: string; text_body: string; html_body: string }> {
  const rows = await deps.sql<{ subject: string; text_body: string; html_body: string }[]>`SELECT subject, text_body, html_body FROM mail_outbox WHERE recipient = ${recipient} AND kind = ${kind} ORDER BY id DESC LIMIT 1`;
  expect(rows.length).toBe(1);
  return rows[0]!;
}
const pw = "A-Good-Password-1";
/** The href of the link whose text is `text` (as the page escapes it). */
const hrefOf = (p: Page, text: string) => {
  const a = [...p.html.matchAll(/<a href="([^"]+)">([^<]*)<\/a>/g)].find((m) => m[2] === text);
  expect(a).toBeDefined();
  return a![1]!.replaceAll("&amp;", "&");
};

describe("sign-up in the user's language", () => {
  test("ui_locales=de: the login page's link, the form and its problems, 'check your mail' and the mail are German; the link's page follows the browser (fr)", async () => {
    const b = Browser.forServer(api.url);
    const login = await b.open(authorizeUrl(authParams(rp, pkce().challenge, { ui_locales: "de" })));
    expect(isLoginPage(login)).toBe(true);
    expect(lang(login)).toBe("de");
    const href = new RegExp(`<a href="([^"]+)">${shown("de", "login.signup")}</a>`).exec(login.html)![1]!.replaceAll("&amp;", "&");
    expect(href).toContain("ui_locales=de");

    const form = await b.open(href);
    expect(form.status).toBe(200);
    expect(lang(form)).toBe("de");
    expect(h1(form)).toBe("Konto erstellen");
    for (const key of ["signup.username", "signup.email", "signup.name", "signup.password", "signup.confirm", "signup.submit", "common.back_to_signin"] as const) expect(form.html).toContain(shown("de", key));
    expect(form.html).toContain(shown("de", "signup.password_hint", { min: 8 }));
    noEnglish(form, ["signup.submit", "signup.confirm", "signup.intro_open", "signup.name", "common.back_to_signin"]);

    const action = findForm(form.html, "ui_locales=de").action;
    const suffix = action.slice(action.indexOf("/signup"));
    const mismatch = await b.submit(form, suffix, { username: "deutsch", email: "deutsch@example.test", name: "", password: pw, confirm_password: "something-else-1" });
    expect(mismatch.status).toBe(400);
    expect(lang(mismatch)).toBe("de");
    expect(mismatch.html).toContain("Die Passwörter stimmen nicht überein.");
    const short = await b.submit(form, suffix, { username: "deutsch", email: "not-an-address", name: "", password: "short", confirm_password: "short" });
    expect(short.html).toContain("Das Passwort muss 8 bis 1024 Zeichen haben.");
    expect(short.html).toContain("Geben Sie eine gültige E-Mail-Adresse ein.");

    const sent = await b.submit(form, suffix, { username: "deutsch", email: "deutsch@example.test", name: "", password: pw, confirm_password: pw });
    expect(sent.status).toBe(200);
    expect(h1(sent)).toBe("Prüfen Sie Ihre E-Mails");
    expect(sent.html).toContain("innerhalb von 24 Stunden");
    await settleSignupRequests();
    const mail = await outbox("deutsch@example.test", "signup_confirm");
    expect(mail.subject).toBe("Bestätigen Sie Ihr neues Konto");
    expect(mail.html_body).toContain('<html lang="de">');
    expect(mail.text_body).toContain("„deutsch“");
    expect(mail.text_body).toContain("Bestätigen und Konto erstellen: http://");
    expect(mail.text_body).toContain("geben Sie das bei der Registrierung gewählte Passwort ein");

    // The link is opened later, maybe elsewhere: its page speaks that browser's language.
    const other = Browser.forServer(api.url, { "accept-language": "fr-CH, fr;q=0.9, en;q=0.5" });
    const confirm = await other.open(linkIn(mail.text_body, "/signup/confirm?token="));
    expect(lang(confirm)).toBe("fr");
    expect(confirm.html).toContain("Créer le compte <strong>deutsch</strong> avec cette adresse.");
    expect(confirm.html).toContain('<label for="password">Le mot de passe choisi à l&#39;inscription</label>');
    const wrong = await other.submit(confirm, "/signup/confirm", { password: "pas-le-bon-mot-de-passe" });
    expect(wrong.status).toBe(400);
    expect(lang(wrong)).toBe("fr");
    expect(wrong.html).toContain(shown("fr", "signup.confirm_wrong"));
    const ready = await other.submit(confirm, "/signup/confirm", { password: pw });
    expect(h1(ready)).toBe("Votre compte est prêt");
    expect(ready.html).toContain("Le compte <strong>deutsch</strong> a été créé.");
    expect((await deps.sql`SELECT email_verified FROM users WHERE username = 'deutsch'`)[0]!.email_verified).toBe(true);
  });

  test("the owner of an address that has an account is told in the account's locale claim, not the page's", async () => {
    const owner = await createOidcUser(deps, { email: "hablo@example.test" });
    await deps.sql`UPDATE users SET locale = 'es-MX' WHERE id = ${owner.id}`;
    const b = Browser.forServer(api.url, { "accept-language": "de" });
    const form = await b.open("/signup");
    expect(lang(form)).toBe("de");
    const sent = await b.submit(form, "/signup", { username: "someone_new", email: "hablo@example.test", name: "", password: pw, confirm_password: pw });
    // The same answer as for a new address (no enumeration), in the page's language.
    expect(h1(sent)).toBe("Prüfen Sie Ihre E-Mails");
    await settleSignupRequests();
    const mail = await outbox("hablo@example.test", "signup_exists");
    expect(mail.subject).toBe("Ya tiene una cuenta");
    expect(mail.html_body).toContain('<html lang="es">');
  });

  test("expired links, a refused form and the closed form are pages in the browser's language with the request id", async () => {
    const b = Browser.forServer(api.url, { "accept-language": "es" });
    const expired = await b.open("/signup/confirm?token=not-a-live-token");
    expect(expired.status).toBe(400);
    expect(lang(expired)).toBe("es");
    expect(h1(expired)).toBe("Enlace caducado");
    expect(expired.html).toContain(shown("es", "signup.link_bad"));
    expect(expired.html).toContain(expired.headers.get("x-request-id")!);

    const form = await b.open("/signup");
    const forged = await b.submit(form, "/signup", { csrf_token: "forged", username: "x", email: "x@example.test", password: pw, confirm_password: pw });
    expect(forged.status).toBe(403);
    expect(h1(forged)).toBe("Formulario no válido");

    const invite = await b.open("/signup?invite=unknown-invite");
    expect(invite.status).toBe(400);
    expect(invite.html).toContain(shown("es", "signup.invite_bad"));
  });

  test("an invite link's form follows ?ui_locales= and keeps it in its action", async () => {
    const r = await api.call("POST", "/admin/invites", { body: { email: "invitada@example.test" } });
    expect(r.status).toBe(201);
    const b = Browser.forServer(api.url);
    const form = await b.open(`${r.body.url}&ui_locales=es`);
    expect(lang(form)).toBe("es");
    expect(form.html).toContain(shown("es", "signup.intro_invite"));
    expect(findForm(form.html, "/signup?ui_locales=es").action).toContain("ui_locales=es");
    const ok = await b.submit(form, "/signup?ui_locales=es", { username: "invitada", name: "", password: pw, confirm_password: pw });
    expect(h1(ok)).toBe("Su cuenta está lista");
    expect(ok.html).toContain(shown("es", "signup.go_account"));
  });
});

describe("password reset and 'Sign up again' keep the sign-in's language", () => {
  test("ui_locales=de: 'Forgot password?' carries it; the form, its problem, 'check your mail' and the reset mail are German, whatever the browser says", async () => {
    const user = await createOidcUser(deps, { email: "vergessen@example.test" });
    await deps.sql`UPDATE users SET locale = NULL WHERE id = ${user.id}`; // no claim: the mail follows the page
    const b = Browser.forServer(api.url, { "accept-language": "en" });
    const login = await b.open(authorizeUrl(authParams(rp, pkce().challenge, { ui_locales: "de" })));
    expect(isLoginPage(login)).toBe(true);
    const href = hrefOf(login, shown("de", "login.forgot"));
    expect(href).toContain("ui_locales=de");

    const form = await b.open(href);
    expect(form.status).toBe(200);
    expect(lang(form)).toBe("de");
    expect(h1(form)).toBe(shown("de", "forgot.title"));
    const action = findForm(form.html, "ui_locales=de").action;
    expect(action).toContain("interaction=");
    const suffix = action.slice(action.indexOf("/password/forgot"));
    const missing = await b.submit(form, suffix, { email: "not-an-address" });
    expect(missing.status).toBe(400);
    expect(lang(missing)).toBe("de");
    expect(missing.html).toContain(shown("de", "forgot.missing"));

    const sent = await b.submit(missing, suffix, { email: user.email });
    expect(sent.status).toBe(200);
    expect(lang(sent)).toBe("de");
    expect(h1(sent)).toBe(shown("de", "forgot.sent_title"));
    await settlePasswordResetRequests();
    const mail = await outbox(user.email, "password_reset");
    expect(mail.subject).toBe("Passwort zurücksetzen");
    expect(mail.html_body).toContain('<html lang="de">');

    // The mailed link's page follows the browser that opens it; its form keeps a ui_locales it was opened with.
    const reset = await Browser.forServer(api.url).open(`${linkIn(mail.text_body, "/password/reset?token=")}&ui_locales=es`);
    expect(lang(reset)).toBe("es");
    const refused = await Browser.forServer(api.url).submit(reset, "/password/reset?ui_locales=es", { new_password: "short", confirm_password: "short" });
    expect(refused.status).toBe(400);
    expect(lang(refused)).toBe("es");
  });

  test("the username-taken mail is in the form's language (ui_locales=fr) and its 'Sign up again' link opens the form in it", async () => {
    await createOidcUser(deps, { username: "pris" });
    const b = Browser.forServer(api.url, { "accept-language": "de" });
    const login = await b.open(authorizeUrl(authParams(rp, pkce().challenge, { ui_locales: "fr" })));
    const form = await b.open(hrefOf(login, shown("fr", "login.signup")));
    expect(lang(form)).toBe("fr");
    const action = findForm(form.html, "ui_locales=fr").action;
    const sent = await b.submit(form, action.slice(action.indexOf("/signup")), { username: "pris", email: "nouveau@example.test", name: "", password: pw, confirm_password: pw });
    expect(sent.status).toBe(200);
    await settleSignupRequests();
    const mail = await outbox("nouveau@example.test", "signup_username_taken");
    expect(mail.html_body).toContain('<html lang="fr">');
    const again = linkIn(mail.text_body, "/signup?");
    expect(new URL(again).searchParams.get("ui_locales")).toBe("fr");
    expect(new URL(again).searchParams.get("interaction")).toBeTruthy();

    const elsewhere = Browser.forServer(api.url, { "accept-language": "es" });
    const reopened = await elsewhere.open(again);
    expect(reopened.status).toBe(200);
    expect(lang(reopened)).toBe("fr");
    expect(h1(reopened)).toBe(shown("fr", "signup.title"));
  });
});

describe("the account page's self-service sections in the user's language", () => {
  async function accountOf(user: OidcTestUser, b: Browser): Promise<Page> {
    const login = await b.open("/account");
    expect(isLoginPage(login)).toBe(true);
    const page = await b.submit(login, "/login", { login: user.username, password: user.password });
    expect(page.html).toContain("<h1>Votre compte</h1>");
    return page;
  }

  test("locale claim fr: sections, 'sign out everywhere else', refused forms and notices are French; the email-change mails follow the claim", async () => {
    const user = await createOidcUser(deps, { email: "ancienne@example.test" });
    await deps.sql`UPDATE users SET locale = 'fr' WHERE id = ${user.id}`;
    await accountOf(user, Browser.forServer(api.url)); // a second session elsewhere
    const b = Browser.forServer(api.url, { "accept-language": "en" });
    const page = await accountOf(user, b);
    expect(lang(page)).toBe("fr");
    for (const key of ["profile.title", "profile.edit", "profile.save", "profile.given_name", "profile.zoneinfo_hint", "email.title", "email.change", "email.new", "email.note", "password.title", "password.change", "password.current", "password.repeat", "password.submit", "account.end_others", "account.end_others_aria", "email.confirmed"] as const)
      expect(page.html).toContain(shown("fr", key));
    expect(page.html).toContain(shown("fr", "password.hint", { min: 8 }));
    noEnglish(page, ["profile.edit", "profile.save", "profile.name", "email.change", "email.note", "password.change", "password.current", "password.submit", "account.end_others", "account.end_others_aria"]);

    const badProfile = await b.submit(page, "/account/profile", { website: "javascript:alert(1)", zoneinfo: "Mars/Olympus" });
    expect(badProfile.status).toBe(400);
    expect(badProfile.html).toContain(shown("fr", "notice.profile_refused"));
    expect(badProfile.html).toContain(shown("fr", "profile.bad_website"));
    expect(badProfile.html).toContain(shown("fr", "profile.bad_zoneinfo"));
    const tooLong = await b.submit(page, "/account/profile", { nickname: "n".repeat(201) });
    expect(tooLong.html).toContain("Au plus 200 caractères.");

    const mismatch = await b.submit(page, "/account/password", { current_password: user.password, new_password: "Another-Password-1", confirm_password: "Different-Password-1" });
    expect(mismatch.status).toBe(400);
    expect(mismatch.html).toContain(shown("fr", "password.mismatch"));
    const policy = await b.submit(page, "/account/password", { current_password: user.password, new_password: "short", confirm_password: "short" });
    expect(policy.html).toContain(shown("fr", "password.policy", { min: 8, max: 1024 }));
    const wrong = await b.submit(page, "/account/email", { email: "nouvelle@example.test", password: "not-my-password" });
    expect(wrong.html).toContain(shown("fr", "email.wrong_password"));

    const ended = await b.submit(page, "/account/sessions/end-others");
    expect(ended.html).toContain(shown("fr", "notice.sessions_ended"));

    const sent = await b.submit(page, "/account/email", { email: "nouvelle@example.test", password: user.password });
    expect(sent.html).toContain(shown("fr", "notice.email_link_sent"));
    const change = await outbox("nouvelle@example.test", "email_change");
    expect(change.subject).toBe("Confirmez votre nouvelle adresse e-mail");
    // The link is opened in a German browser: the page is German, the notice to the old address follows the claim (fr).
    const de = Browser.forServer(api.url, { "accept-language": "de-DE" });
    const confirm = await de.open(linkIn(change.text_body, "/email/change?token="));
    expect(lang(confirm)).toBe("de");
    expect(confirm.html).toContain("<strong>nouvelle@example.test</strong> als Adresse Ihres Kontos verwenden.");
    const done = await de.submit(confirm, "/email/change");
    expect(h1(done)).toBe("Adresse geändert");
    const notice = await outbox("ancienne@example.test", "email_changed");
    expect(notice.subject).toBe("Votre adresse e-mail a été modifiée");
    expect(notice.text_body).toContain("nouvelle@example.test");
  });

  test("without a locale claim the account page follows Accept-Language, and so does the email-change mail", async () => {
    const user = await createOidcUser(deps, { email: "sin-claim@example.test" });
    await deps.sql`UPDATE users SET locale = NULL WHERE id = ${user.id}`;
    const b = Browser.forServer(api.url, { "accept-language": "es-ES,es;q=0.9" });
    const login = await b.open("/account");
    const page = await b.submit(login, "/login", { login: user.username, password: user.password });
    expect(lang(page)).toBe("es");
    expect(page.html).toContain(shown("es", "profile.edit"));
    await b.submit(page, "/account/email", { email: "nueva@example.test", password: user.password });
    expect((await outbox("nueva@example.test", "email_change")).subject).toBe("Confirme su nueva dirección de correo electrónico");
  });
});
