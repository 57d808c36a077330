// The mail outbox (issue 17): mails queued while no worker runs are sent when one starts (nothing
// lost across a restart), and several workers on one database (processes, nodes) send every mail
// exactly once: claims use FOR UPDATE SKIP LOCKED and a lease. A real SMTP peer on loopback.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { enqueueMail, startMailWorker } from "../../src/mail/service";
import { renderMail } from "../../src/mail/templates";
import { log, setLogLevel } from "../../src/log";
import { createTestApp, freePort } from "../support/app";
import { startSmtpPeer } from "../support/smtp";

setDefaultTimeout(120_000);

const port = await freePort();
const peer = await startSmtpPeer(port);
const t = await createTestApp({ env: { AUTHLY_SMTP_URL: `smtp://127.0.0.1:${port}?tls=off`, AUTHLY_MAIL_FROM: "authly@example.test", AUTHLY_MAIL_RETRY_SECONDS: "1" } });
afterAll(() => peer.stop());

describe("mail outbox", () => {
  test("mails queued with no worker running are delivered once each by three concurrent workers", async () => {
    const N = 40;
    for (let i = 0; i < N; i++) await enqueueMail(t.deps, renderMail("test", `user${i}@example.test`, { issuer: t.deps.config.issuer }));
    const workers = [startMailWorker(t.deps), startMailWorker(t.deps), startMailWorker(t.deps)];
    try {
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline) {
        const [r] = await t.deps.sql`SELECT count(*) FILTER (WHERE sent_at IS NULL)::int AS pending FROM mail_outbox`;
        if (r!.pending === 0) break;
        await Bun.sleep(50);
      }
    } finally {
      for (const w of workers) await w.stop();
    }
    const recipients = peer.mails.map((m) => (m.to as { text: string }).text).sort();
    expect(recipients).toEqual(Array.from({ length: N }, (_, i) => `user${i}@example.test`).sort());
    const [rows] = await t.deps.sql`SELECT count(*)::int AS sent, max(attempts)::int AS attempts FROM mail_outbox WHERE sent_at IS NOT NULL`;
    expect(rows).toEqual({ sent: N, attempts: 1 });
  });
});

describe("mail in the log", () => {
  test("outside dev mode the log has a queued mail's id and kind, never its body (a link is a credential); dev mode logs the mail", async () => {
    const lines: string[] = [];
    const reporter = { log: (o: { args: unknown[] }) => void lines.push(o.args.map(String).join(" ")) };
    log.addReporter(reporter);
    setLogLevel("info");
    try {
      const mail = renderMail("password_reset", "eve@example.test", { username: "eve", issuer: "http://x", minutes: "30" }, "http://x/password/reset?token=SECRET-TOKEN-123");
      await enqueueMail({ ...t.deps, config: { ...t.deps.config, devMode: false } }, mail);
      expect(lines.some((l) => /mail \d+ \(password_reset\) queued/.test(l))).toBe(true);
      expect(lines.join("\n")).not.toContain("SECRET-TOKEN-123");
      expect(lines.join("\n")).not.toContain("eve@example.test");
      await enqueueMail({ ...t.deps, config: { ...t.deps.config, devMode: true } }, mail);
      expect(lines.join("\n")).toContain("SECRET-TOKEN-123");
    } finally {
      log.removeReporter(reporter);
      setLogLevel(t.deps.config.logLevel);
    }
  });
});
