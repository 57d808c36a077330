// Colour only where it can be seen: NO_COLOR, FORCE_COLOR and whether each stream is a terminal,
// for the logger (consola) that `serve` and the workers write through. A real process runs under
// `script` so that stdout is a terminal while stderr goes to a file (issue 18).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../support/process";

const script = Bun.which("script");
const dir = mkdtempSync(join(tmpdir(), "authly-colour-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const program = join(dir, "log-lines.ts");
writeFileSync(program, `import { log } from ${JSON.stringify(join(ROOT, "src/log.ts"))};\nlog.info("hello");\nlog.warn("careful");\n`);
const ESC = "\x1b[";

/** stdout on a pseudo-terminal, stderr redirected to a file; returns both. */
async function run(env: Record<string, string>): Promise<{ tty: string; stderr: string }> {
  const errFile = join(dir, `err-${Math.random().toString(36).slice(2)}.txt`);
  const base: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, TERM: "xterm" };
  const proc = Bun.spawn([script!, "-qec", `'${process.execPath}' '${program}' 2>'${errFile}'`, "/dev/null"], { env: { ...base, ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  const tty = await new Response(proc.stdout).text();
  await proc.exited;
  clearTimeout(timer);
  return { tty, stderr: readFileSync(errFile, "utf8") };
}

describe.skipIf(!script)("colour in log output (skipped without util-linux `script`)", () => {
  test("stdout on a terminal is coloured, stderr redirected to a file is not", async () => {
    const r = await run({});
    expect(r.tty).toContain("hello");
    expect(r.tty).toContain(ESC);
    expect(r.stderr).toContain("[warn] careful");
    expect(r.stderr).toContain("careful");
    expect(r.stderr).not.toContain(ESC);
  });

  test("NO_COLOR removes colour even on a terminal (https://no-color.org); FORCE_COLOR=0 too", async () => {
    for (const env of [{ NO_COLOR: "1" }, { FORCE_COLOR: "0" }, { TERM: "dumb" }] as Record<string, string>[]) {
      const r = await run(env);
      expect(r.tty, JSON.stringify(env)).toContain("hello");
      expect(r.tty, JSON.stringify(env)).not.toContain(ESC);
      expect(r.stderr, JSON.stringify(env)).not.toContain(ESC);
    }
  });

  test("FORCE_COLOR=1 colours the redirected stream too", async () => {
    const r = await run({ FORCE_COLOR: "1" });
    expect(r.stderr).toContain("careful");
    expect(r.stderr).toContain(ESC);
  });
});
