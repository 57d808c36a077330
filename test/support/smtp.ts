// A real SMTP peer for tests (smtp-server on loopback, no TLS, any login): every mail received is
// parsed with mailparser; `waitFor` polls (bounded) until a mail matches.
import { simpleParser, type ParsedMail } from "mailparser";
import { SMTPServer } from "smtp-server";

/** The first link in a mail's text to `path` (e.g. "/signup/confirm?token=") on a loopback server,
 *  up to the next white space. */
export function linkIn(text: string, path: string): string {
  const m = new RegExp(`(http://127\\.0\\.0\\.1:\\d+${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\S+)`).exec(text);
  if (!m) throw new Error(`no link to ${path} in the mail:\n${text}`);
  return m[1]!;
}

export interface SmtpPeer {
  port: number;
  mails: ParsedMail[];
  waitFor(pred: (m: ParsedMail) => boolean, timeoutMs?: number): Promise<ParsedMail>;
  stop(): Promise<void>;
}

export async function startSmtpPeer(port: number): Promise<SmtpPeer> {
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, _session, cb) {
      simpleParser(stream).then((m) => {
        mails.push(m);
        cb();
      }, (err) => cb(err));
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port,
    mails,
    async waitFor(pred, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const m = mails.find(pred);
        if (m) return m;
        await Bun.sleep(50);
      }
      throw new Error(`no matching mail within ${timeoutMs} ms (received: ${mails.map((m) => `${m.to && "text" in m.to ? m.to.text : "?"} ${m.subject}`).join("; ") || "none"})`);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
