// The admin CLI against a live server: a real Authly server on loopback (real database, bootstrapped
// admin), a private HOME/AUTHLY_CONFIG_DIR per server, and helpers that run the real `authly`
// executable (runAuthly) or a bash script calling it, as the guide's examples are written.
import { afterAll } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createDpopProof, importDpopKey } from "../../src/lib/dpop-proof";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Deps } from "../../src/deps";
import { startTestServer } from "../support/app";
import { authlyCommand, ROOT, runAuthly, type RunResult } from "../support/process";

export const ADMIN_USERNAME = "admin";
export const ADMIN_PASSWORD = "Correct-Horse-Battery-9";

export interface CliWorld {
  url: string;
  deps: Deps;
  home: string;
  configDir: string;
  binDir: string;
  env: Record<string, string>;
  cli(args: string[], opts?: { env?: Record<string, string | undefined>; stdin?: string }): Promise<RunResult>;
  /** Runs a bash script with `authly` on PATH (set -euo pipefail). */
  sh(script: string, opts?: { env?: Record<string, string> }): Promise<RunResult>;
  login(): Promise<RunResult>;
}

/** A temp folder with an `authly` launcher (the compiled binary when AUTHLY_BIN is set). */
export function makeBinDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "authly-bin-"));
  const cmd = authlyCommand([]).map((p) => `'${p}'`).join(" ");
  writeFileSync(join(dir, "authly"), `#!/bin/sh\nexec ${cmd} "$@"\n`);
  chmodSync(join(dir, "authly"), 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function makeHome(): { home: string; configDir: string } {
  const home = mkdtempSync(join(tmpdir(), "authly-home-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  return { home, configDir: join(home, ".authly") };
}

export async function startCliWorld(opts: { env?: Record<string, string> } = {}): Promise<CliWorld> {
  const server = await startTestServer({
    env: { AUTHLY_ADMIN_USERNAME: ADMIN_USERNAME, AUTHLY_ADMIN_PASSWORD: ADMIN_PASSWORD, AUTHLY_ADMIN_RATE_LIMIT: "100000", ...opts.env },
  });
  const { home, configDir } = makeHome();
  const binDir = makeBinDir();
  const env: Record<string, string> = { HOME: home, AUTHLY_CONFIG_DIR: configDir, AUTHLY_ADMIN_API_URL: server.url, AUTHLY_MODE: "", AUTHLY_DEBUG_HTTP: "" };
  const world: CliWorld = {
    url: server.url,
    deps: server.deps,
    home,
    configDir,
    binDir,
    env,
    cli: (args, o = {}) => runAuthly(args, { env: { ...env, ...o.env }, stdin: o.stdin }),
    async sh(script, o = {}) {
      const start = performance.now();
      const proc = Bun.spawn(["bash", "-c", `set -euo pipefail\n${script}`], {
        env: { ...process.env, ...env, NO_COLOR: "1", PATH: `${binDir}:${process.env.PATH}`, ...o.env } as Record<string, string>,
        stdout: "pipe",
        stderr: "pipe",
        stdin: "ignore",
        cwd: home,
      });
      const timer = setTimeout(() => proc.kill("SIGKILL"), 120_000);
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      clearTimeout(timer);
      return { code, stdout, stderr, ms: performance.now() - start };
    },
    login: () => runAuthly(["admin", "auth", "login", "--username", ADMIN_USERNAME, "--password", ADMIN_PASSWORD], { env }),
  };
  return world;
}

/** Fails with the command's exit code, stdout and stderr in the message (CI prints the message's first line). */
export function expectExit(r: RunResult, code: number): void {
  if (r.code !== code) throw new Error(`exit code ${r.code}, expected ${code}; stderr: ${r.stderr.trim().replaceAll("\n", " | ")}; stdout: ${r.stdout.trim().slice(0, 500).replaceAll("\n", " | ")}`);
}

/** The Authorization (and DPoP proof, RFC 9449) headers of the login stored in `configDir`, as the
 *  CLI sends them for `method` `path`: its token is DPoP-bound to the key kept beside it. */
export async function storedLoginHeaders(configDir: string, method: string, path: string, token?: string): Promise<Record<string, string>> {
  const t = JSON.parse(readFileSync(join(configDir, "tokens.json"), "utf8")) as { access_token: string; dpop_key?: string; issuer?: string };
  const at = token ?? t.access_token;
  if (!t.dpop_key) return { authorization: `Bearer ${at}` };
  const proof = await createDpopProof(await importDpopKey(JSON.parse(t.dpop_key)), { htm: method, htu: `${t.issuer}${path.split("?")[0]}`, accessToken: at });
  return { authorization: `DPoP ${at}`, DPoP: proof };
}

export { ROOT };
