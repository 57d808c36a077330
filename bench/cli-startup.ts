// `bun run bench/cli-startup.ts`: start-up time of the admin CLI (targets, from the compiled
// binary: `authly admin --help` under 60 ms median, `authly --version` under 30 ms). Runs each
// command N times as a fresh process and prints min / median / p90 wall time, and the median CPU
// time (user + system), which a busy machine disturbs much less than wall time. Uses AUTHLY_BIN, else dist/authly-<os>-<arch> when built, else the
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
const TARGET_MS = 60;
const VERSION_TARGET_MS = 30;

const arch = process.arch === "arm64" ? "arm64" : "x64";
const built = join(ROOT, "dist", `authly-${process.platform}-${arch}`);
const bin = opt("bin") ?? process.env.AUTHLY_BIN ?? (existsSync(built) ? built : undefined);
const base = bin ? [bin] : [process.execPath, join(ROOT, "src/main.ts")];

const home = mkdtempSync(join(tmpdir(), "authly-bench-cli-"));
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, AUTHLY_CONFIG_DIR: join(home, ".authly"), NO_COLOR: "1" };

const cpu: number[] = [];
function time(args: string[]): number {
  const start = performance.now();
  const r = Bun.spawnSync([...base, ...args], { env, stdout: "ignore", stderr: "ignore" });
  const ms = performance.now() - start;
  if (r.exitCode !== 0 && !args.includes("list")) throw new Error(`authly ${args.join(" ")} exited ${r.exitCode}`);
  const usage = r.resourceUsage?.cpuTime;
  if (usage) cpu.push((Number(usage.user) + Number(usage.system)) / 1000);
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
console.log(`${"command".padEnd(38)}${"min".padStart(9)}${"median".padStart(9)}${"p90".padStart(9)}${"CPU median".padStart(12)}`);
let helpMedian = 0;
let versionMedian = 0;
try {
  for (const [name, args] of cases) {
    time(args); // warm the file cache
    cpu.length = 0;
    const samples = Array.from({ length: RUNS }, () => time(args));
    const s = stats(samples);
    const c = cpu.length ? `${stats(cpu).median.toFixed(1)}ms` : "-";
    if (name === "admin --help") helpMedian = s.median;
    if (name === "--version") versionMedian = s.median;
    console.log(`${name.padEnd(38)}${`${s.min.toFixed(1)}ms`.padStart(9)}${`${s.median.toFixed(1)}ms`.padStart(9)}${`${s.p90.toFixed(1)}ms`.padStart(9)}${c.padStart(12)}`);
  }
} finally {
  rmSync(home, { recursive: true, force: true });
}
const ok = helpMedian < TARGET_MS && versionMedian < VERSION_TARGET_MS;
console.log(`\nadmin --help median ${helpMedian.toFixed(1)} ms: ${helpMedian < TARGET_MS ? "within" : "over"} the ${TARGET_MS} ms target; --version median ${versionMedian.toFixed(1)} ms: ${versionMedian < VERSION_TARGET_MS ? "within" : "over"} the ${VERSION_TARGET_MS} ms target${bin ? "" : " (measured from source; the targets are for the compiled binary)"}`);
if (argv.includes("--strict") && !ok) process.exit(1);
