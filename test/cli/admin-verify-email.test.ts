// Email verification (issue 17): a link mailed at user creation and at an email change (mail
// configured), confirmed through the page (GET shows a button, POST confirms), `email_verified`
// following it; `authly admin user verify-email USER --resend`. Real SMTP peer on loopback.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { freePort } from "../support/app";
import { startSmtpPeer, type SmtpPeer } from "../support/smtp";
import { startCliWorld, type CliWorld } from "./admin-support";

setDefaultTimeout(120_000);

const smtpPort = await freePort();
const peer: SmtpPeer = await startSmtpPeer(smtpPort);
const w: CliWorld = await startCliWorld({ env: { AUTHLY_SMTP_URL: `smtp://127.0.0.1:${smtpPort}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "1" } });

beforeAll(async () => {
  expect((await w.login()).code).toBe(0);
});
afterAll(async () => {
  await peer.stop();
});

const to = (m: { to?: unknown }) => (m.to as { text: string }).text;
const linkIn = (text: string) => /(http:\/\/127\.0\.0\.1:\d+\/email\/verify\?token=[A-Za-z0-9_%-]+)/.exec(text)![1]!;
const confirm = (link: string) =>
  fetch(`${w.url}/email/verify`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ token: new URL(link).searchParams.get("token")! }).toString() });
const verified = async (username: string) => (await w.deps.sql`SELECT email_verified FROM users WHERE username = ${username}`)[0]!.email_verified as boolean;

describe("email verification", () => {
  test("a link at creation and at an email change; confirming sets email_verified once; --resend replaces the link", async () => {
    expect((await w.cli(["admin", "user", "create", "--username", "erin", "--email", "erin@example.test", "--password", "Erins-Long-Password-1"])).code).toBe(0);
    const first = await peer.waitFor((m) => to(m) === "erin@example.test" && m.subject === "Confirm your email address");
    expect(first.html).toContain("Confirm the address");
    const link = linkIn(first.text!);
    expect(await verified("erin")).toBe(false);
    // Opening the link confirms nothing (mail scanners fetch links): a button does.
    const pageRes = await fetch(link);
    expect(pageRes.status).toBe(200);
    expect(await pageRes.text()).toContain("Confirm your email address");
    expect(await verified("erin")).toBe(false);
    const done = await confirm(link);
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Address confirmed");
    expect(await verified("erin")).toBe(true);
    expect((await confirm(link)).status).toBe(400);
    expect((await w.cli(["admin", "user", "verify-email", "erin"])).stdout).toContain("erin@example.test: verified");
    // Already verified: nothing to resend.
    expect((await w.cli(["admin", "user", "verify-email", "erin", "--resend"])).code).toBe(5);

    // A new address is not verified and gets its own link.
    expect((await w.cli(["admin", "user", "update", "erin", "--email", "erin2@example.test"])).code).toBe(0);
    expect(await verified("erin")).toBe(false);
    const second = linkIn((await peer.waitFor((m) => to(m) === "erin2@example.test")).text!);
    const resend = await w.cli(["admin", "user", "verify-email", "erin", "--resend", "--output", "json"]);
    expect(resend.code).toBe(0);
    expect(JSON.parse(resend.stdout)).toMatchObject({ email: "erin2@example.test", queued: true });
    const third = linkIn((await peer.waitFor((m) => to(m) === "erin2@example.test" && !m.text!.includes(second))).text!);
    expect((await confirm(second)).status).toBe(400);
    expect((await confirm(third)).status).toBe(200);
    expect(await verified("erin")).toBe(true);
  });
});
