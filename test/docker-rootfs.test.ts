// The FROM-scratch image without a Docker engine: assemble the Dockerfile's file set with the same
// script (scripts/rootfs-files.sh) into a temporary root folder, then run the binary there under
// chroot, as the Dockerfile's user, with the Dockerfile's ENV, ENTRYPOINT and HEALTHCHECK, in a
// private mount namespace with /proc and /dev (as a container has). It must start, serve /health, pass its
// health check and stop cleanly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./support/app";
import { ensureBinary } from "./support/binary";
import { createTestDatabase } from "./support/db";
import { captureOutput } from "./support/process";
import { TEST_SECRETS } from "./support/app";

const ROOT = resolve(import.meta.dir, "..");
const SCRIPT = join(ROOT, "scripts/rootfs-files.sh");
const CHROOT = ["/usr/sbin/chroot", "/usr/bin/chroot"].find(existsSync);
const UNSHARE = ["/usr/bin/unshare", "/bin/unshare"].find(existsSync);
const canChroot = process.platform === "linux" && process.getuid?.() === 0 && Boolean(CHROOT && UNSHARE);

/** The final stage of the Dockerfile: FROM, ENV, USER, HEALTHCHECK, ENTRYPOINT, COPY and RUN lines. */
function parseDockerfile() {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const stages: string[][] = [];
  for (const l of lines) {
    if (/^FROM\s/i.test(l)) stages.push([]);
    stages.at(-1)?.push(l);
  }
  const last = stages.at(-1)!;
  const get = (kw: string) => last.filter((l) => new RegExp(`^${kw}\\s`, "i").test(l)).map((l) => l.slice(kw.length).trim());
  const env: Record<string, string> = {};
  for (const e of get("ENV")) for (const m of e.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, "");
  const health = get("HEALTHCHECK")[0] ?? "";
  return {
    from: last[0]!,
    env,
    user: get("USER")[0] ?? "",
    expose: get("EXPOSE"),
    entrypoint: JSON.parse(get("ENTRYPOINT")[0] ?? "[]") as string[],
    healthcheck: JSON.parse(health.slice(health.indexOf("CMD") + 3).trim() || "[]") as string[],
    copies: get("COPY"),
    buildRuns: stages.slice(0, -1).flat().filter((l) => /^RUN\s/i.test(l)).join("\n"),
  };
}

let work = "";
let rootfs = "";
let bin = "";

beforeAll(async () => {
  if (!canChroot) return;
  bin = await ensureBinary();
  work = mkdtempSync(join(tmpdir(), "authly-rootfs-"));
  rootfs = join(work, "rootfs");
  const r = Bun.spawnSync([SCRIPT, "assemble", bin, rootfs], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`rootfs-files.sh assemble failed: ${r.stderr.toString()}`);
  // Mount points for what a container runtime adds (mounted per run, below).
  mkdirSync(join(rootfs, "proc"));
  mkdirSync(join(rootfs, "dev"));
}, 6 * 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs `cmd` inside the root folder as the Dockerfile's user, with exactly `env`. */
function inContainer(cmd: string[], env: Record<string, string>, user: string) {
  const quoted = cmd.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  // What every OCI runtime gives a container: /proc and a /dev with the standard device nodes
  // (Bun.spawn of a worker needs /dev/null). In a private mount namespace they vanish with it.
  const dev = `${rootfs}/dev`;
  const nodes = [["null", 3], ["zero", 5], ["full", 7], ["random", 8], ["urandom", 9]].map(([n, minor]) => `mknod -m 666 '${dev}/${n}' c 1 ${minor}`).join(" && ");
  const script = `mount -t proc proc '${rootfs}/proc' && mount -t tmpfs -o mode=755 tmpfs '${dev}' && ${nodes} && exec ${CHROOT} --userspec=${user} '${rootfs}' ${quoted}`;
  return Bun.spawn([UNSHARE!, "--mount", "--fork", "--kill-child=SIGKILL", "/bin/sh", "-c", script], { env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
}

async function finish(proc: ReturnType<typeof inContainer>, ms = 30_000) {
  const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

/** Starts `cmd` in the root folder and waits (bounded) until /health answers 200 on `port`. */
async function startInContainer(cmd: string[], env: Record<string, string>, user: string, port: number) {
  const started = performance.now();
  const proc = inContainer(cmd, env, user);
  const output = captureOutput(proc);
  let exited = false;
  void proc.exited.then(() => (exited = true));
  const deadline = Date.now() + 120_000;
  let healthy = false;
  while (!healthy && !exited && Date.now() < deadline) {
    healthy = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.status === 200, () => false);
    if (!healthy) await Bun.sleep(100);
  }
  if (!healthy) {
    proc.kill("SIGKILL");
    throw new Error(`the chrooted server did not become healthy:\n${output()}`);
  }
  return {
    proc,
    seconds: (performance.now() - started) / 1000,
    output,
    /** SIGTERM to the server (unshare's child), the way `docker stop` does; its exit code. */
    async stop(): Promise<number> {
      const file = `/proc/${proc.pid}/task/${proc.pid}/children`;
      const children = existsSync(file) ? readFileSync(file, "utf8").trim().split(/\s+/).filter(Boolean) : [];
      for (const c of children) process.kill(Number(c), "SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
      const code = await proc.exited;
      clearTimeout(timer);
      return code;
    },
  };
}

describe("Dockerfile: a FROM-scratch image with exactly the binary's run-time files", () => {
  test("the final stage is FROM scratch, non-root, EXPOSE 8000, a HEALTHCHECK by the binary itself, built by rootfs-files.sh", () => {
    const d = parseDockerfile();
    expect(d.from).toMatch(/^FROM\s+scratch$/i);
    expect(d.user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    expect(d.expose).toEqual(["8000"]);
    expect(d.entrypoint).toEqual(["/usr/local/bin/authly"]);
    expect(d.healthcheck[0]).toBe("/usr/local/bin/authly");
    expect(d.healthcheck[1]).toBe("healthcheck");
    expect(d.buildRuns).toContain("scripts/rootfs-files.sh context");
    expect(d.copies.some((c) => /^--from=build\s+\/image\/root\/\s+\/$/.test(c))).toBe(true);
    expect(d.copies.some((c) => /^--from=build\s+--chown=10001:10001\s+\/image\/app-owned\/\s+\/$/.test(c))).toBe(true);
    expect(d.env.AUTHLY_DATA_DIR).toBeString();
  });

  test.skipIf(!canChroot)("the assembled root holds the binary, the libraries ldd lists, the loader, CA certificates and a non-root user", () => {
    const list = Bun.spawnSync([SCRIPT, "list", bin]).stdout.toString().trim().split("\n");
    const dests = list.map((l) => l.split(" -> ")[1]!);
    for (const d of dests) expect(existsSync(join(rootfs, d))).toBe(true);
    const ldd = Bun.spawnSync(["ldd", bin]).stdout.toString();
    const libs = [...ldd.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]!);
    expect(libs.length).toBeGreaterThan(0);
    for (const lib of libs) expect(dests).toContain(lib);
    const user = parseDockerfile().user.split(":")[0];
    expect(readFileSync(join(rootfs, "etc/passwd"), "utf8")).toContain(`:x:${user}:`);
    const data = statSync(join(rootfs, parseDockerfile().env.AUTHLY_DATA_DIR!));
    expect(String(data.uid)).toBe(user!);
    // No shell, no package manager: nothing to exec but the binary.
    expect(existsSync(join(rootfs, "bin/sh"))).toBe(false);
  });

  test.skipIf(!canChroot)("under chroot as the image's user: serve --embedded --workers 2 starts, serves /health, passes HEALTHCHECK, stops on SIGTERM", async () => {
    const d = parseDockerfile();
    const port = await freePort();
    // `docker run -p` would map 8000; here the port is a free one, passed like `-e AUTHLY_PORT`.
    const env = { ...d.env, AUTHLY_PORT: String(port), AUTHLY_HOST: "127.0.0.1", AUTHLY_LOG_LEVEL: "info", AUTHLY_ACCESS_LOG: "false" };
    const version = await finish(inContainer([...d.entrypoint, "--version"], env, d.user));
    expect(version.stderr).toBe("");
    expect(version.code).toBe(0);

    const server = await startInContainer([...d.entrypoint, "serve", "--embedded", "--workers", "2"], env, d.user, port);
    try {
      console.log(`scratch root: serve --embedded --workers 2 healthy in ${server.seconds.toFixed(1)} s`);
      expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toEqual({ status: "healthy", database: "connected" });
      const hc = await finish(inContainer(d.healthcheck, env, d.user));
      expect(hc.code).toBe(0);
      expect(hc.stdout).toContain("healthy");
      // The embedded database was written by the non-root user into the data folder.
      expect(existsSync(join(rootfs, d.env.AUTHLY_DATA_DIR!, "pgdata", "PG_VERSION"))).toBe(true);
      // /health answers as soon as one worker listens; the supervisor announces when both do.
      for (let i = 0; i < 300 && !server.output().includes("All 2 workers ready"); i++) await Bun.sleep(100);
      expect(server.output()).toContain("All 2 workers ready");
    } finally {
      const code = await server.stop();
      if (code !== 0) console.log(server.output().slice(-3000));
      expect(code).toBe(0);
    }
  }, 180_000);

  test.skipIf(!canChroot)("under chroot: `authly migrate`, then production `serve --workers 2` on an external PostgreSQL", async () => {
    const d = parseDockerfile();
    const db = await createTestDatabase({ migrated: false });
    const port = await freePort();
    const env = { ...d.env, ...TEST_SECRETS, DATABASE_URL: db.url, AUTHLY_MODE: "testing", AUTHLY_PORT: String(port), AUTHLY_HOST: "127.0.0.1", AUTHLY_ACCESS_LOG: "false" };
    const migrated = await finish(inContainer([...d.entrypoint, "migrate"], env, d.user));
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toContain("0001_initial");
    const server = await startInContainer([...d.entrypoint, "serve", "--workers", "2"], env, d.user, port);
    try {
      console.log(`scratch root: production serve --workers 2 healthy in ${server.seconds.toFixed(1)} s`);
      expect((await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).status).toBe(200);
      const hc = await finish(inContainer([...d.healthcheck, "--ready"], env, d.user));
      expect(hc.code).toBe(0);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 180_000);
});
