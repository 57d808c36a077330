// `authly admin user invite --email ADDRESS` (issue 17) through the real CLI against a live server
// with AUTHLY_SIGNUP=invite and a real SMTP peer: the link is mailed and printed, works once, and
// `authly admin status` says how sign-up stands; bad input exits 5 with a readable message.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { freePort } from "../support/app";
import { Browser } from "../support/browser";
import { startSmtpPeer, type SmtpPeer } from "../support/smtp";
import { startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);

const smtpPort = await freePort();
const peer: SmtpPeer = await startSmtpPeer(smtpPort);
const w: CliWorld = await startCliWorld({ env: { AUTHLY_SIGNUP: "invite", AUTHLY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "1" } });

beforeAll(async () => {
  expect((await w.login()).code).toBe(0);
});
afterAll(async () => {
  await peer.stop();
});

describe("authly admin user invite", () => {
  test("mails and prints a single-use link; the invitee creates the account with it once", async () => {
    const r = await w.cli(["admin", "user", "invite", "--email", "gina@example.test"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Invite mailed to gina@example.test");
    const printed = /Link: (\S+)/.exec(r.stdout)![1]!;
    const mail = await peer.waitFor((m) => (m.to as { text: string }).text === "gina@example.test");
    expect(mail.text).toContain(printed);

    const b = Browser.forServer(w.url);
    const form = await b.open(printed);
    expect(form.html).toContain("You were invited.");
    const done = await b.submit(form, "/signup", { username: "gina", password: "Ginas-Password-1", confirm_password: "Ginas-Password-1" });
    expect(done.html).toContain("Your account is ready");
    expect((await w.cli(["admin", "user", "show", "gina"])).code).toBe(0);
    expect((await fetch(printed)).status).toBe(400);
  });

  test("JSON output, and exit 5 with a message for an address that has an account or a bad value", async () => {
    const json = await w.cli(["admin", "user", "invite", "--email", "hal@example.test", "--expires-in-hours", "24", "--output", "json"]);
    expect(json.code).toBe(0);
    const body = JSON.parse(json.stdout);
    expect(body).toMatchObject({ email: "hal@example.test", mailed: true });
    expect(body.url).toMatch(/\/signup\?invite=/);
    const dup = await w.cli(["admin", "user", "invite", "--email", "gina@example.test"]);
    expect(dup.code).toBe(5);
    expect(dup.stderr).toContain("already exists");
    const bad = await w.cli(["admin", "user", "invite", "--email", "x@example.test", "--expires-in-hours", "0"]);
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain("--expires-in-hours must be a whole number from 1 to 720");
  });

  test("admin status shows the sign-up mode", async () => {
    const r = await w.cli(["admin", "status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Sign-up:");
    expect(r.stdout).toContain("Status: By invite only");
  });
});

// Security review (h-audit): a name chosen at sign-up (or on the account page) reaches the admin's
// terminal; its control characters must not act on the terminal (title, screen, forged lines).
describe("text chosen by users is shown inert in the admin's terminal", () => {
  test("a sign-up name with escape sequences and a newline is printed with them escaped", async () => {
    const r = await w.cli(["admin", "user", "invite", "--email", "ivy@example.test"]);
    const link = /Link: (\S+)/.exec(r.stdout)![1]!;
    const b = Browser.forServer(w.url);
    const form = await b.open(link);
    const name = "Ivy\u001b]0;owned\u0007\u001b[2J\nUsername: admin";
    const done = await b.submit(form, "/signup", { username: "ivy", name, password: "Ivys-Password-1", confirm_password: "Ivys-Password-1" });
    expect(done.html).toContain("Your account is ready");

    const show = await w.cli(["admin", "user", "show", "ivy"]);
    expect(show.code).toBe(0);
    expect(show.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(show.stdout).toContain("Name: Ivy\\x1b]0;owned\\x07\\x1b[2J\\x0aUsername: admin");
    expect(show.stdout.split("\n").filter((l) => l.startsWith("Username:"))).toEqual(["Username: ivy"]);
  });
});
