// The measurements `bun run bench` runs after its paired endpoint runs (bench/run.ts calls
// runCompanionBenches): Authly side by side with node-oidc-provider, refresh-rotation cost, CLI
// start-up of the compiled binary, a worker's memory, and (with --growth, minutes long) the 1M-row
// growth run. Each is a script of its own that also runs alone:
//   bun run bench/peer.ts            paired with node-oidc-provider 9 (installed into bench/.peer) and raw Bun
//   bun run bench/rotation-cost.ts   CPU, WAL and statements per refresh rotation
//   bun run bench/cli-startup.ts     authly --version / admin --help from dist/ (bun run build first)
//   bun run bench/memory.ts          idle and loaded RSS of one worker
//   bun run bench/growth.ts          user-token p99 on empty tables vs 1M rows
// --only (a comma list as for run.ts) also selects among them: rotation, cli, memory, growth, and
// the peer's scenarios (client, intro, userinfo, code, refresh, signin); --peer false skips the peer.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const BUILT = join(ROOT, "dist", `authly-${process.platform}-${process.arch === "arm64" ? "arm64" : "x64"}`);

function runScript(title: string, script: string, args: string[]): number {
  console.log(`\n## ${title} (bun run ${script} ${args.join(" ")})\n`);
  const r = Bun.spawnSync([process.execPath, join(ROOT, script), ...args], { cwd: ROOT, env: process.env, stdout: "inherit", stderr: "inherit", stdin: "ignore" });
  return r.exitCode ?? 1;
}

/** Runs the companion measurements; returns how many could not run. */
export function runCompanionBenches(argv: Record<string, string>): number {
  const only = argv.only ? argv.only.split(",") : undefined;
  const wanted = (name: string) => !only || only.some((o) => name.startsWith(o));
  let failed = 0;
  const peerScenarios = ["client", "intro", "userinfo", "code", "refresh", "signin"];
  if (argv.peer !== "false" && (!only || peerScenarios.some(wanted))) {
    const pass = ["duration", "rounds", "connections", "only"].flatMap((k) => (argv[k] !== undefined ? [`--${k}`, argv[k]!] : []));
    failed += runScript("Side by side with node-oidc-provider 9 (and raw Bun.serve)", "bench/peer.ts", pass) ? 1 : 0;
  }
  if (wanted("rotation") || wanted("refresh")) failed += runScript("Refresh rotation: where the cost goes", "bench/rotation-cost.ts", ["--rotations", "3000"]) ? 1 : 0;
  if (wanted("cli")) {
    if (existsSync(BUILT)) failed += runScript("CLI start-up of the compiled binary", "bench/cli-startup.ts", ["--runs", "15", "--bin", BUILT]) ? 1 : 0;
    else console.log(`\n## CLI start-up: no binary at ${BUILT}; run \`bun run build\`, then \`bun run bench/cli-startup.ts\``);
  }
  if (wanted("memory")) failed += runScript("Memory of one worker", "bench/memory.ts", ["--seconds", "40", "--warmup", "8"]) ? 1 : 0;
  if (argv.growth !== undefined && wanted("growth")) failed += runScript("Growth: user tokens, empty vs 1M rows", "bench/growth.ts", []) ? 1 : 0;
  else console.log("\n## Growth (several minutes, 1M rows): `bun run bench --growth true`, or `bun run bench:growth` alone");
  return failed;
}
