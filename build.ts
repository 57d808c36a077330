// Release build: `bun build --compile` of src/main.ts into dist/authly-<os>-<arch>[-musl], one
// self-contained executable per target (migrations, pages and the PGlite engine embedded), each
// with a SHA-256 checksum file and a combined dist/SHA256SUMS.
//
//   bun run build                      the host target (dist/authly-linux-x64 on this machine)
//   bun run build --all                every release target
//   bun run build --target linux-arm64 --target darwin-arm64
//
// A target that cannot be built (cross-compiling downloads that platform's Bun runtime from the
// npm registry, so it needs network) is reported with the reason and makes the exit code 1; it is
// never replaced by anything else.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

export const ROOT = import.meta.dir;
export const DIST = resolve(ROOT, "dist");

export interface Target {
  /** Our name: the suffix of dist/authly-<name>. */
  name: string;
  /** Bun's --target value. */
  bun: string;
  os: "linux" | "darwin";
  arch: "x64" | "arm64";
  musl: boolean;
}

export const TARGETS: Target[] = [
  { name: "linux-x64", bun: "bun-linux-x64", os: "linux", arch: "x64", musl: false },
  { name: "linux-arm64", bun: "bun-linux-arm64", os: "linux", arch: "arm64", musl: false },
  { name: "linux-x64-musl", bun: "bun-linux-x64-musl", os: "linux", arch: "x64", musl: true },
  { name: "linux-arm64-musl", bun: "bun-linux-arm64-musl", os: "linux", arch: "arm64", musl: true },
  { name: "darwin-x64", bun: "bun-darwin-x64", os: "darwin", arch: "x64", musl: false },
  { name: "darwin-arm64", bun: "bun-darwin-arm64", os: "darwin", arch: "arm64", musl: false },
];

/** The target of the machine this runs on (musl when the system's C library is musl). */
export function hostTarget(): Target {
  const os = process.platform === "darwin" ? "darwin" : "linux";
  const arch = process.arch === "arm64" ? "arm64" : "x64";
  const glibcLoader = arch === "x64" ? "/lib64/ld-linux-x86-64.so.2" : "/lib/ld-linux-aarch64.so.1";
  const musl = os === "linux" && !existsSync(glibcLoader) && existsSync(`/lib/ld-musl-${arch === "x64" ? "x86_64" : "aarch64"}.so.1`);
  return TARGETS.find((t) => t.os === os && t.arch === arch && t.musl === musl)!;
}

/** Where the binary of a target lands. */
export function binaryPath(target: Target = hostTarget()): string {
  return join(DIST, `authly-${target.name}`);
}

export interface BuildResult {
  target: string;
  ok: boolean;
  path?: string;
  bytes?: number;
  sha256?: string;
  seconds: number;
  /** Where this machine can run it (natively or under qemu-user): did `--version` answer right? */
  verified?: "yes" | "yes (qemu)" | "no" | "not runnable here";
  error?: string;
}

const COMPILE_TIMEOUT_MS = 5 * 60_000;

/**
 * Profiles of which precompiled functions a run used (scripts/record-bytecode-order.ts writes
 * them), most important first: the server's start and its hot requests, then the admin CLI's
 * start. The build lays that bytecode out together at the front, so a process touches (and keeps
 * resident) only those pages of the executable: one idle `authly serve` worker ~5 MB less RSS. A
 * profile from an older build still applies (functions are matched by hash; new ones land after);
 * a missing file is skipped.
 */
export const BYTECODE_ORDER = ["scripts/bytecode-order/serve.txt", "scripts/bytecode-order/cli.txt"].map((f) => join(ROOT, f));

/**
 * The embedded engine's files, zstd-compressed (level 9, ~0.5 s) into dist/.assets/ where
 * package.json "imports" points the condition authly-compressed: 15.7 MB of PGlite wasm and data
 * become 4.7 MB in every executable; db/embedded.ts decompresses them at an --embedded start
 * (~60 ms). A server on an external PostgreSQL never reads them either way.
 */
let engineFilesCompressed = false;
export function compressEngineFiles(): void {
  if (engineFilesCompressed) return;
  engineFilesCompressed = true;
  mkdirSync(join(DIST, ".assets"), { recursive: true });
  for (const name of ["pglite.wasm", "initdb.wasm", "pglite.data"]) {
    const source = Bun.resolveSync(`@electric-sql/pglite/${name}`, ROOT);
    const target = join(DIST, ".assets", `${name}.zst`);
    writeFileSync(target, Bun.zstdCompressSync(readFileSync(source), { level: 9 }));
  }
}

/** Compiles one target. Never throws: a failure comes back with its reason. */
export async function buildTarget(target: Target, opts: { quiet?: boolean } = {}): Promise<BuildResult> {
  const started = performance.now();
  const out = binaryPath(target);
  mkdirSync(DIST, { recursive: true });
  rmSync(out, { force: true });
  rmSync(`${out}.sha256`, { force: true });
  compressEngineFiles();
  // Built in a folder of its own: with --splitting the bundler writes a source map per chunk next to
  // the executable (all of them are embedded in it too).
  const work = mkdtempSync(join(DIST, ".build-"));
  const built = join(work, basename(out));
  const order = BYTECODE_ORDER.filter((f) => existsSync(f));
  const args = [
    process.execPath, "build", "--compile", "--minify",
    // The source map is embedded in the executable: stack traces name src/ files and lines.
    "--sourcemap",
    `--target=${target.bun}`,
    // Precompiled to bytecode: start-up no longer parses the bundle (`authly --version` and
    // `authly admin --help` ~10 ms of CPU instead of ~130 ms). Needs a bundle without top-level
    // await (src/main.ts, src/log.ts).
    "--bytecode",
    // ES modules split into chunks: what is only imported dynamically (the embedded engine, the
    // admin CLI's commands, WebAuthn, nodemailer, the API docs) is a chunk of its own that a process
    // reads only when it imports it; one bundle kept all of it in every worker (~4 MB of RSS).
    "--format=esm", "--splitting",
    ...(order.length ? [`--bytecode-order=${order.join(",")}`] : []),
    // The compressed engine files (compressEngineFiles, package.json "imports").
    "--conditions=authly-compressed",
    // testcontainers (and ssh2, dockerode under it) is only for AUTHLY_EMBEDDED_ENGINE=container,
    // a development convenience: left out of the binary it saves 1.6 MB of JavaScript (more than
    // half the bundle) and its bytecode; the binary names the missing package when asked for it
    // (db/container.ts). cpu-features: ssh2's native add-on, never embeddable anyway.
    "--external", "testcontainers",
    "--external", "@testcontainers/postgresql",
    "--external", "cpu-features",
    join(ROOT, "src/main.ts"),
    "--outfile", built,
  ];
  const proc = Bun.spawn(args, { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), COMPILE_TIMEOUT_MS);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  if (code === 0 && existsSync(built)) renameSync(built, out);
  rmSync(work, { recursive: true, force: true });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0 || !existsSync(out)) {
    rmSync(out, { force: true });
    const reason = code === null || proc.signalCode ? `timed out after ${COMPILE_TIMEOUT_MS / 1000} s` : explainFailure(stdout + stderr);
    return { target: target.name, ok: false, seconds, error: reason };
  }
  if (!opts.quiet) process.stdout.write(stdout);
  // A profile recorded by another Bun version (or unreadable) is skipped with a warning: say so.
  for (const line of `${stdout}\n${stderr}`.split("\n")) if (/^warn:.*bytecode order/i.test(line.trim())) console.warn(`${target.name}: ${line.trim()} (bun run build:order)`);
  const bytes = statSync(out).size;
  const sha256 = createHash("sha256").update(readFileSync(out)).digest("hex");
  writeFileSync(`${out}.sha256`, `${sha256}  ${basename(out)}\n`);
  return { target: target.name, ok: true, path: out, bytes, sha256, seconds, verified: await verify(target, out) };
}

/** One readable reason out of bun's output; a missing network is named as such. */
export function explainFailure(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter(Boolean);
  const errorLine = lines.find((l) => /^error:/i.test(l)) ?? lines.find((l) => /error|fail/i.test(l)) ?? lines.at(-1) ?? "bun build failed without output";
  const network = /download|fetch|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ConnectionRefused|network|registry|getaddrinfo|HTTP/i.test(output);
  return network
    ? `${errorLine} — cross-compiling downloads this target's Bun runtime from the npm registry; it could not be fetched (no network, or the registry is unreachable)`
    : errorLine;
}

/**
 * Runs the new binary's --version where this machine can execute it: natively, or a glibc Linux
 * binary of the other architecture under qemu-user when it is installed (Debian: qemu-user and
 * libc6-<arch>-cross).
 */
async function verify(target: Target, path: string): Promise<BuildResult["verified"]> {
  const host = hostTarget();
  // A musl binary also needs musl builds of libstdc++ and libgcc (Alpine: apk add libstdc++ libgcc):
  // only a musl host can run it.
  if (target.os !== host.os || target.musl !== host.musl) return "not runnable here";
  let command = [path, "--version"];
  let how: BuildResult["verified"] = "yes";
  if (target.arch !== host.arch) {
    const [qemu, sysroot] = target.arch === "arm64" ? ["qemu-aarch64", "/usr/aarch64-linux-gnu"] : ["qemu-x86_64", "/usr/x86_64-linux-gnu"];
    const emulator = Bun.which(qemu);
    if (target.os !== "linux" || !emulator || !existsSync(sysroot)) return "not runnable here";
    command = [emulator, "-L", sysroot, ...command];
    how = "yes (qemu)";
  }
  try {
    const proc = Bun.spawn(command, { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: {} });
    const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    clearTimeout(timer);
    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
    return code === 0 && out.trim() === version ? how : "no";
  } catch {
    return "no";
  }
}

function parseArgs(argv: string[]): Target[] {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`usage: bun run build [--all] [--target NAME ...]\ntargets: ${TARGETS.map((t) => t.name).join(", ")} (default: the host, ${hostTarget().name})`);
    process.exit(0);
  }
  if (argv.includes("--all")) return TARGETS;
  const named: Target[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = a === "--target" ? argv[++i] : a.startsWith("--target=") ? a.slice(9) : undefined;
    if (a !== "--target" && !a.startsWith("--target=")) {
      console.error(`unknown argument: ${a}`);
      process.exit(2);
    }
    const t = TARGETS.find((x) => x.name === value);
    if (!t) {
      console.error(`unknown target: ${value} (one of: ${TARGETS.map((x) => x.name).join(", ")})`);
      process.exit(2);
    }
    named.push(t);
  }
  return named.length ? named : [hostTarget()];
}

function writeChecksums(): void {
  const lines = TARGETS.map((t) => `${binaryPath(t)}.sha256`).filter(existsSync).map((f) => readFileSync(f, "utf8").trim());
  if (lines.length) writeFileSync(join(DIST, "SHA256SUMS"), `${lines.join("\n")}\n`);
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

if (import.meta.main) {
  const targets = parseArgs(process.argv.slice(2));
  const results: BuildResult[] = [];
  // One at a time: every compile holds the whole bundle in memory, and CI has two cores.
  for (const t of targets) {
    process.stdout.write(`building ${t.name} (${t.bun}) …\n`);
    results.push(await buildTarget(t, { quiet: true }));
  }
  writeChecksums();
  writeFileSync(join(DIST, "build-report.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log("\ntarget              result   size       time    runs here          sha256");
  for (const r of results) {
    if (r.ok) console.log(`${r.target.padEnd(19)} built    ${mb(r.bytes!).padEnd(10)} ${r.seconds.toFixed(1).padStart(5)} s  ${r.verified!.padEnd(18)} ${r.sha256!.slice(0, 16)}…`);
    else console.log(`${r.target.padEnd(19)} FAILED   ${r.error}`);
  }
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    console.error(`\n${failed.length} of ${results.length} target(s) could not be built: ${failed.map((r) => r.target).join(", ")}`);
    process.exit(1);
  }
  if (results.some((r) => r.verified === "no")) {
    console.error("\na built binary did not answer --version on this machine");
    process.exit(1);
  }
}
