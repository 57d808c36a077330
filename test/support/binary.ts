// The compiled binary for the binary and scratch-image tests: AUTHLY_BIN when set, else
// dist/authly-<host> when it is newer than every source it embeds, else a fresh `bun run build`
// (a build takes seconds; bounded in time).
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { binaryPath } from "../../build";

const ROOT = resolve(import.meta.dir, "../..");
export const BUILD_TIMEOUT_MS = 5 * 60_000;

function isStale(binary: string): boolean {
  const builtAt = statSync(binary).mtimeMs;
  const newer = (p: string): boolean => {
    const st = statSync(p);
    if (st.isDirectory()) return readdirSync(p).some((f) => newer(join(p, f)));
    return st.mtimeMs > builtAt;
  };
  return ["src", "migrations", "package.json", "bun.lock"].some((p) => existsSync(join(ROOT, p)) && newer(join(ROOT, p)));
}

export async function ensureBinary(): Promise<string> {
  if (process.env.AUTHLY_BIN) return resolve(process.env.AUTHLY_BIN);
  const built = binaryPath();
  if (existsSync(built) && !isStale(built)) return built;
  const proc = Bun.spawn([process.execPath, "run", join(ROOT, "build.ts")], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), BUILD_TIMEOUT_MS);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code !== 0 || !existsSync(built)) throw new Error(`bun run build failed (exit ${code}):\n${out}\n${err}`);
  return built;
}
