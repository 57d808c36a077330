// Outgoing mail (issue 17): AUTHLY_SMTP_URL rules, the PostgreSQL outbox and its worker in the
// serve process, `authly admin mail test --to`, and `admin status` — against a real SMTP peer
// (smtp-server on loopback) whose mails are parsed with mailparser.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { loadConfig } from "../../src/config";
import { ConfigError } from "../../src/errors";
import { freePort } from "../support/app";
import { startSmtpPeer, type SmtpPeer } from "../support/smtp";
import { startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);

const smtpPort = await freePort();
const w: CliWorld = await startCliWorld({ env: { AUTHLY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "1" } });
let peer: SmtpPeer | undefined;

beforeAll(async () => {
  expect((await w.login()).code).toBe(0);
});
afterAll(async () => {
  await peer?.stop();
});

function configProblems(env: Record<string, string>): string {
  try {
    loadConfig({ AUTHLY_MODE: "testing", ...env }, { purpose: "cli" });
    return "";
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
}

describe("AUTHLY_SMTP_URL", () => {
  test("smtp:// or smtps:// only; tls=off (no STARTTLS) only towards loopback; AUTHLY_MAIL_FROM required; the URL never shown", () => {
    expect(configProblems({ AUTHLY_SMTP_URL: "smtp://mail.example.com:587", AUTHLY_MAIL_FROM: "a@example.com" })).toBe("");
    expect(configProblems({ AUTHLY_SMTP_URL: "smtps://u:p@mail.example.com", AUTHLY_MAIL_FROM: "a@example.com" })).toBe("");
    expect(configProblems({ AUTHLY_SMTP_URL: "smtp://127.0.0.1:2525?tls=off", AUTHLY_MAIL_FROM: "a@example.com" })).toBe("");
    const remote = configProblems({ AUTHLY_SMTP_URL: "smtp://user:hunter2-secret@mail.example.com?tls=off", AUTHLY_MAIL_FROM: "a@example.com" });
    expect(remote).toContain("tls=off (no STARTTLS) is allowed only for a loopback host");
    expect(remote).not.toContain("hunter2-secret");
    expect(configProblems({ AUTHLY_SMTP_URL: "http://mail.example.com", AUTHLY_MAIL_FROM: "a@example.com" })).toContain("AUTHLY_SMTP_URL");
    expect(configProblems({ AUTHLY_SMTP_URL: "smtp://mail.example.com" })).toContain("AUTHLY_MAIL_FROM: required");
  });
});

describe("authly admin mail test", () => {
  test("a mail server that is down fails nothing: the mail waits in the outbox and is delivered, text and HTML, once the server is up", async () => {
    // Nothing listens on the SMTP port yet.
    const queued = await w.cli(["admin", "mail", "test", "--to", "ops@example.test", "--output", "json"]);
    expect(queued.code).toBe(0);
    const { id } = JSON.parse(queued.stdout);
    expect(id).toMatch(/^\d+$/);
    // The worker tries and fails (connection refused): the row is still pending, with the error recorded.
    const deadline = Date.now() + 60_000;
    let row: { attempts: number; last_error: string | null; sent_at: Date | null } | undefined;
    while (Date.now() < deadline) {
      [row] = await w.deps.sql<{ attempts: number; last_error: string | null; sent_at: Date | null }[]>`SELECT attempts, last_error, sent_at FROM mail_outbox WHERE id = ${id}`;
      if (row!.attempts >= 1 && row!.last_error) break;
      await Bun.sleep(50);
    }
    expect(row!.sent_at).toBeNull();
    expect(row!.last_error).toBeTruthy();
    const status = JSON.parse((await w.cli(["admin", "status", "--output", "json"])).stdout);
    expect(status.mail).toMatchObject({ enabled: true, from: "authly@example.test" });
    expect(status.mail.outbox.pending).toBeGreaterThanOrEqual(1);

    peer = await startSmtpPeer(smtpPort);
    const mail = await peer.waitFor((m) => m.subject === "Authly test mail");
    expect(mail.from?.text).toBe("authly@example.test");
    expect((mail.to as { text: string }).text).toBe("ops@example.test");
    expect(mail.text).toContain("outgoing mail works");
    expect(mail.html).toContain("<p>If you can read it, outgoing mail works.</p>");
    // Sent once, and the body no longer kept.
    const [sent] = await w.deps.sql`SELECT sent_at, text_body, html_body FROM mail_outbox WHERE id = ${id}`;
    expect(sent!.sent_at).not.toBeNull();
    expect(sent!.text_body).toBe("");
    const text = (await w.cli(["admin", "status"])).stdout;
    expect(text).toContain("Mail:\n  Status: Enabled (from authly@example.test)");
    const audit = await w.deps.sql`SELECT actor FROM audit_log WHERE action = 'mail.test' AND target_id = ${id}`;
    expect(audit).toHaveLength(1);
  });

  test("a bad address is refused (exit 5) and nothing is queued", async () => {
    const before = (await w.deps.sql`SELECT count(*)::int AS n FROM mail_outbox`)[0]!.n;
    const r = await w.cli(["admin", "mail", "test", "--to", "not an address"]);
    expect(r.code).toBe(5);
    expect((await w.deps.sql`SELECT count(*)::int AS n FROM mail_outbox`)[0]!.n).toBe(before);
  });
});
