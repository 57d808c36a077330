// `bun run bench/cli-startup.ts`: start-up time of the admin CLI (target: `authly admin --help`
// under 100 ms from the compiled binary). Runs each command N times as a fresh process and prints
// min / median / p90 wall time. Uses AUTHLY_BIN, else dist/authly-<os>-<arch> when built, else the
// sources (`bun src/main.ts`, slower: transpiles on every start).
//
//   bun run bench/cli-startup.ts [--runs 20] [--bin path/to/authly] [--strict]
//
// --strict exits 1 when `admin --help` misses the target (for CI on quiet machines only).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const RUNS = Number(opt("runs") ?? 20);
const TARGET_MS = 100;

const arch = process.arch === "arm64" ? "arm64" : "x64";
const built = join(ROOT, "dist", `authly-${process.platform}-${arch}`);
const bin = opt("bin") ?? process.env.AUTHLY_BIN ?? (existsSync(built) ? built : undefined);
const base = bin ? [bin] : [process.execPath, join(ROOT, "src/main.ts")];

const home = mkdtempSync(join(tmpdir(), "authly-bench-cli-"));
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, AUTHLY_CONFIG_DIR: join(home, ".authly"), NO_COLOR: "1" };

function time(args: string[]): number {
  const start = performance.now();
  const r = Bun.spawnSync([...base, ...args], { env, stdout: "ignore", stderr: "ignore" });
  const ms = performance.now() - start;
  if (r.exitCode !== 0 && !args.includes("list")) throw new Error(`authly ${args.join(" ")} exited ${r.exitCode}`);
  return ms;
}

function stats(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { min: s[0]!, median: at(0.5), p90: at(0.9) };
}

const cases: [string, string[]][] = [
  ["--version", ["--version"]],
  ["admin --help", ["admin", "--help"]],
  ["admin client create --help", ["admin", "client", "create", "--help"]],
  ["admin auth info --output json", ["admin", "auth", "info", "--output", "json"]],
  // Not logged in: exits 2 at once, but loads everything `client list` loads.
  ["admin client list (not logged in)", ["admin", "client", "list"]],
];

console.log(`CLI start-up, ${RUNS} runs each, ${bin ? `binary ${bin}` : "from source (bun src/main.ts)"}\n`);
console.log(`${"command".padEnd(38)}${"min".padStart(9)}${"median".padStart(9)}${"p90".padStart(9)}`);
let helpMedian = 0;
try {
  for (const [name, args] of cases) {
    time(args); // warm the file cache
    const samples = Array.from({ length: RUNS }, () => time(args));
    const s = stats(samples);
    if (name === "admin --help") helpMedian = s.median;
    console.log(`${name.padEnd(38)}${`${s.min.toFixed(1)}ms`.padStart(9)}${`${s.median.toFixed(1)}ms`.padStart(9)}${`${s.p90.toFixed(1)}ms`.padStart(9)}`);
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
const ok = helpMedian < TARGET_MS;
console.log(`\nadmin --help median ${helpMedian.toFixed(1)} ms: ${ok ? "within" : "over"} the ${TARGET_MS} ms target${bin ? "" : " (measured from source; the target is for the compiled binary)"}`);
if (argv.includes("--strict") && !ok) process.exit(1);
