// A real terminal for CLI tests: bash in a tmux session (own socket in the world's HOME) with the
// CLI world's environment; the screen is read back and waited on, bounded in time. tmux is
// required under CI (.ci/run installs it); elsewhere the callers skip and say so.
import { afterAll } from "bun:test";
import { join } from "node:path";
import type { CliWorld } from "./admin-support";

export const hasTmux = Bun.which("tmux") !== null;

export interface Terminal {
  tmux(...args: string[]): string;
  screen(): string;
  /** Waits (bounded) until the screen shows `text` after the `from`-th character of the history. */
  waitFor(text: string | RegExp, from?: number, timeoutMs?: number): Promise<string>;
  /** Types `text` literally, then Enter unless `enter` is false. */
  type(text: string, enter?: boolean): void;
}

export function startTerminal(w: CliWorld, opts: { session: string; rows: number; history: number; env?: Record<string, string> }): Terminal {
  const socket = join(w.home, "tmux.sock");
  const { session } = opts;
  const tmux = (...args: string[]): string => {
    const r = Bun.spawnSync(["tmux", "-S", socket, ...args], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr.toString()}`);
    return r.stdout.toString();
  };
  const screen = () => tmux("capture-pane", "-p", "-J", "-S", `-${opts.history}`, "-t", session);
  const waitFor = async (text: string | RegExp, from = 0, timeoutMs = 30_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = screen();
      const tail = s.slice(from);
      if (typeof text === "string" ? tail.includes(text) : text.test(tail)) return s;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${text}; screen:\n${s}`);
      await Bun.sleep(50);
    }
  };
  const type = (text: string, enter = true): void => {
    tmux("send-keys", "-t", session, "-l", text);
    if (enter) tmux("send-keys", "-t", session, "Enter");
  };
  if (hasTmux) {
    const env = { ...w.env, PATH: `${w.binDir}:${process.env.PATH}`, PS1: "$ ", NO_COLOR: "1", TERM: "xterm", ...opts.env };
    const exports = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(" ");
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", String(opts.rows), `env -i HOME='${w.home}' ${exports} bash --norc --noprofile`);
    afterAll(() => {
      try {
        tmux("kill-server");
      } catch {
        // already gone
      }
    });
  }
  return { tmux, screen, waitFor, type };
}
