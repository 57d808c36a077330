// Terminal prompts of the admin CLI: visible answers, hidden passwords (raw mode, nothing echoed)
// and yes/no confirmations. Prompts go to stderr so that stdout stays clean for --output json.
import { CliError, ExitCode } from "../../errors";
import { inert } from "../output";

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY);
}

/** Reads one line from the terminal in raw mode; `echo: false` shows nothing while typing. */
export function readInput(question: string, opts: { echo: boolean }): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.reject(new CliError("Cannot prompt: not a terminal", ExitCode.validation));
  process.stderr.write(question);
  return new Promise((resolvePromise, reject) => {
    let buf = "";
    const finish = (err?: Error) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      if (err) reject(err);
      else resolvePromise(buf);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish();
        if (ch === "\u0003" || ch === "\u0004") return finish(new CliError("Cancelled", ExitCode.general));
        if (ch === "\u007f" || ch === "\b") {
          if (buf.length) {
            buf = buf.slice(0, -1);
            if (opts.echo) process.stderr.write("\b \b");
          }
        } else if (ch === "\u0015") {
          if (opts.echo) process.stderr.write("\b \b".repeat(buf.length));
          buf = "";
        } else if (ch >= " ") {
          buf += ch;
          if (opts.echo) process.stderr.write(ch);
        }
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

export function promptText(question: string): Promise<string> {
  return readInput(question, { echo: true });
}

export function promptPassword(question = "Password: "): Promise<string> {
  return readInput(question, { echo: false });
}

/** Asks on a terminal; without a terminal, refuses unless the caller passed --confirm/--yes. */
export async function confirmAction(question: string, flags: { confirm?: boolean; yes?: boolean }): Promise<void> {
  if (flags.confirm || flags.yes) return;
  if (!isInteractive()) {
    throw new CliError("Confirmation required", ExitCode.validation, "Not a terminal: pass --confirm (or --yes) to go ahead, or --dry-run to see what would happen.");
  }
  const answer = (await promptText(`${inert(question)} [y/N]: `)).trim().toLowerCase();
  if (answer !== "y" && answer !== "yes") throw new CliError("Aborted", ExitCode.general, "Nothing was changed.");
}
