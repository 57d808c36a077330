// `authly admin branding show|set|reset [--client ID]` (issue 17) against a live server: values
// checked by the server (a colour that could inject CSS exits 5 naming the field), files for the
// logo and the stylesheet, --clear, a client's branding, reset; and the theme in a real mail's HTML
// part (smtp-server on loopback, parsed with mailparser).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../support/app";
import { createOidcClient } from "../support/oidc-fixtures";
import { startSmtpPeer, type SmtpPeer } from "../support/smtp";
import { startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);

const smtpPort = await freePort();
const peer: SmtpPeer = await startSmtpPeer(smtpPort);
const w: CliWorld = await startCliWorld({ env: { AUTHLY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "1" } });
const dir = mkdtempSync(join(tmpdir(), "authly-branding-"));

beforeAll(async () => {
  expect((await w.login()).code).toBe(0);
});
afterAll(async () => {
  await peer.stop();
  rmSync(dir, { recursive: true, force: true });
});

const json = async (args: string[]) => {
  const r = await w.cli([...args, "--output", "json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
};

describe("authly admin branding", () => {
  test("show, set (options and files), --clear, and reset of the server-wide branding", async () => {
    expect(await json(["admin", "branding", "show"])).toMatchObject({ client_id: null, product_name: null, primary_colour: null });
    const svg = join(dir, "logo.svg");
    writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="#b00020"/></svg>');
    const css = join(dir, "extra.css");
    writeFileSync(css, "main{border-radius:0}\n");
    const set = await w.cli(["admin", "branding", "set", "--product-name", "Acme ID", "--primary-colour", "#B00020", "--logo-file", svg, "--stylesheet-file", css]);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain("Server-wide branding updated");
    expect(set.stdout).toContain("Acme ID");
    const shown = await json(["admin", "branding", "show"]);
    expect(shown).toMatchObject({ product_name: "Acme ID", primary_colour: "#b00020", stylesheet: "main{border-radius:0}" });
    expect(shown.logo_uri).toStartWith("data:image/svg+xml;base64,");

    const cleared = await json(["admin", "branding", "set", "--clear", "stylesheet", "--clear", "logo_uri"]);
    expect(cleared).toMatchObject({ product_name: "Acme ID", stylesheet: null, logo_uri: null });

    const dry = await json(["admin", "branding", "reset", "--dry-run"]);
    expect(dry).toMatchObject({ dry_run: true, branding: { product_name: "Acme ID" } });
    expect((await json(["admin", "branding", "show"])).product_name).toBe("Acme ID");
    const reset = await w.cli(["admin", "branding", "reset", "--confirm"]);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain("reset to the built-in look");
    expect((await json(["admin", "branding", "show"])).product_name).toBeNull();
  });

  test("a colour or stylesheet that could inject CSS is refused: exit 5, the field named, nothing changed", async () => {
    const bad = await w.cli(["admin", "branding", "set", "--primary-colour", "red;}body{background:url(https://evil.example/x)}"]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain("primary_colour");
    expect(bad.stderr).not.toContain("evil.example");
    const css = join(dir, "evil.css");
    writeFileSync(css, "@import url(https://evil.example/x.css);");
    const badCss = await w.cli(["admin", "branding", "set", "--stylesheet-file", css]);
    expect(badCss.code).toBe(5);
    expect(badCss.stderr).toContain("stylesheet");
    expect((await json(["admin", "branding", "show"])).stylesheet).toBeNull();
    const nothing = await w.cli(["admin", "branding", "set"]);
    expect(nothing.code).toBe(5);
    expect(nothing.stderr).toContain("Nothing to set");
    const unknown = await w.cli(["admin", "branding", "set", "--clear", "colour"]);
    expect(unknown.code).toBe(5);
  });

  test("--client: a client's own branding over the server-wide one; an unknown client exits 4", async () => {
    const c = await createOidcClient(w.deps, { client_name: "Foto App" });
    const set = await json(["admin", "branding", "set", "--client", c.client_id, "--primary-colour", "rebeccapurple"]);
    expect(set).toMatchObject({ client_id: c.client_id, primary_colour: "rebeccapurple" });
    expect((await json(["admin", "branding", "show"])).primary_colour).toBeNull();
    const missing = await w.cli(["admin", "branding", "show", "--client", "no-such-client"]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain("Client not found: no-such-client");
    expect((await w.cli(["admin", "branding", "reset", "--client", c.client_id, "--confirm"])).code).toBe(0);
    expect((await json(["admin", "branding", "show", "--client", c.client_id])).primary_colour).toBeNull();
  });

  test("the theme reaches the HTML part of a mail: product name, primary colour", async () => {
    expect((await w.cli(["admin", "branding", "set", "--product-name", "Acme ID", "--primary-colour", "#0a7d32"])).code).toBe(0);
    expect((await w.cli(["admin", "mail", "test", "--to", "brand@example.test"])).code).toBe(0);
    const mail = await peer.waitFor((m) => (m.to as { text: string }).text === "brand@example.test");
    expect(mail.subject).toBe("Acme ID test mail");
    expect(mail.html).toContain("color:#0a7d32");
    expect(mail.html).toContain(">Acme ID</p>");
    expect(mail.text).toContain("— Acme ID");
    expect((await w.cli(["admin", "branding", "reset", "--confirm"])).code).toBe(0);
  });
});
