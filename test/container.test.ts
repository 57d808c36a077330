// The container image for real: Dockerfile.prebuilt packs the binary built by `bun run build`
// into FROM scratch (nothing pulled, no network), podman builds it (`--format docker` keeps the
// HEALTHCHECK) and runs it with the runc runtime, as a user would run it: embedded engine, a read-
// only root with a volume at /data, a port published on loopback only. It must answer /health and
// discovery, run as the non-root user, pass its own HEALTHCHECK, be administrable through `exec`
// (the admin API refuses the mapped port: the source is the bridge address), and keep its data
// when the container is replaced. The image size is printed.
//
// CI (CI=true) installs podman and must run this test: a missing engine fails it there. Elsewhere
// without podman it is reported as skipped, with the reason.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./support/app";
import { ensureBinary } from "./support/binary";

const ROOT = resolve(import.meta.dir, "..");
const PODMAN = Bun.which("podman");
const RUNC = Bun.which("runc") ?? Bun.which("runc", { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" });
const ENGINE_OK = Boolean(PODMAN && RUNC) && process.platform === "linux" && process.getuid?.() === 0;
const runnable = ENGINE_OK || Boolean(process.env.CI);
if (!runnable) console.warn("container test skipped: needs podman and runc as root (apt-get install -y podman runc)");

// runc here cannot keep the default rlimits; build and run both get these (see .ci/run).
const ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"];
const ARCH = process.arch === "arm64" ? "arm64" : "amd64";
const tag = `localhost/authly-test:${process.pid}-${Date.now().toString(36)}`;
const volume = `authly-test-data-${process.pid}-${Date.now().toString(36)}`;
const containers: string[] = [];
let context = "";

interface Run {
  code: number;
  out: string;
  err: string;
}

/** `podman --runtime runc ARGS`, bounded in time; stderr without podman's systemd-timer notices. */
async function podman(args: string[], timeoutMs = 60_000): Promise<Run> {
  const proc = Bun.spawn([PODMAN!, "--runtime", RUNC!, ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, out, err: err.split("\n").filter((l) => l && !/systemd/.test(l)).join("\n") };
}

async function ok(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  if (r.code !== 0) throw new Error(`podman ${args.join(" ")} failed (exit ${r.code}):\n${r.err}\n${r.out}`);
  return r.out.trim();
}

/** Polls `url` until it answers 200 (at most `ms`); returns the last status seen. */
async function waitHealthy(url: string, ms = 120_000): Promise<number> {
  const until = Date.now() + ms;
  let status = 0;
  for (let i = 0; i < 1000 && Date.now() < until; i++) {
    status = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
    if (status === 200) return status;
    await Bun.sleep(250);
  }
  return status;
}

/** Starts `serve --embedded` with the volume at /data, read-only root, port on loopback only. */
async function startContainer(port: number): Promise<string> {
  const name = `authly-test-${process.pid}-${containers.length}-${Date.now().toString(36)}`;
  containers.push(name);
  await ok(["run", "-d", "--name", name, ...ULIMITS, "--read-only", "--tmpfs", "/tmp", "-v", `${volume}:/data`, "-p", `127.0.0.1:${port}:8000`, "-e", "AUTHLY_ADMIN_PASSWORD=container-Test-pa55word", tag, "serve", "--embedded"]);
  return name;
}

/** The final stage of a Dockerfile from its ENV line on: what the image is, apart from its files. */
function runtimeStage(file: string): string[] {
  const lines = readFileSync(join(ROOT, file), "utf8").replace(/\\\n/g, " ").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  const last = lines.slice(lines.findLastIndex((l) => /^FROM\s/i.test(l)));
  return last.slice(last.findIndex((l) => /^ENV\s/i.test(l)));
}

describe("Dockerfile.prebuilt", () => {
  test("its runtime stage is the Dockerfile's, line for line (user, volume, port, HEALTHCHECK, entrypoint)", () => {
    const prebuilt = runtimeStage("Dockerfile.prebuilt");
    expect(prebuilt).toEqual(runtimeStage("Dockerfile"));
    expect(prebuilt).toContain("USER 10001:10001");
    expect(prebuilt.some((l) => l.startsWith("HEALTHCHECK") && l.endsWith('CMD ["/usr/local/bin/authly", "healthcheck"]'))).toBe(true);
    // Nothing to pull, nothing to run: one FROM scratch, no RUN.
    const text = readFileSync(join(ROOT, "Dockerfile.prebuilt"), "utf8");
    expect(text.match(/^FROM\s.*$/gim)).toEqual(["FROM scratch"]);
    expect(text).not.toMatch(/^RUN\s/im);
    expect(text).not.toMatch(/^# syntax=/m);
  });
});

describe.skipIf(!runnable)("the container image under podman (runc)", () => {
  beforeAll(async () => {
    if (!ENGINE_OK) throw new Error(`podman and runc are needed as root to run the container test in CI (found podman: ${PODMAN ?? "no"}, runc: ${RUNC ?? "no"}); apt-get install -y podman runc`);
    const bin = await ensureBinary();
    context = mkdtempSync(join(tmpdir(), "authly-image-"));
    const assembled = Bun.spawnSync([join(ROOT, "scripts/rootfs-files.sh"), "context", bin, join(context, `linux-${ARCH}`)], { stdout: "pipe", stderr: "pipe" });
    if (assembled.exitCode !== 0) throw new Error(`rootfs-files.sh context failed: ${assembled.stderr.toString()}`);
    await ok(["build", "--format", "docker", "--layers=false", ...ULIMITS, "--platform", `linux/${ARCH}`, "-f", join(ROOT, "Dockerfile.prebuilt"), "-t", tag, context], 5 * 60_000);
  }, 6 * 60_000);

  afterAll(async () => {
    if (!ENGINE_OK) return;
    for (const c of containers) await podman(["rm", "-f", "-t", "0", c]);
    await podman(["volume", "rm", "-f", volume]);
    await podman(["rmi", "-f", tag]);
    if (context) rmSync(context, { recursive: true, force: true });
  }, 120_000);

  test("the image: non-root user, HEALTHCHECK by the binary, volume /data, port 8000 (its size is printed)", async () => {
    const config = JSON.parse(await ok(["image", "inspect", "--format", "{{json .Config}}", tag])) as { User: string; Volumes: Record<string, unknown>; ExposedPorts: Record<string, unknown>; Entrypoint: string[] };
    expect(config.User).toBe("10001:10001");
    // Kept only in the docker image format (`build --format docker`); OCI images drop HEALTHCHECK.
    const healthcheck = JSON.parse(await ok(["image", "inspect", "--format", "{{json .Config.Healthcheck}}", tag])) as { Test: string[] } | null;
    expect(healthcheck?.Test).toEqual(["CMD", "/usr/local/bin/authly", "healthcheck"]);
    expect(Object.keys(config.Volumes)).toEqual(["/data"]);
    expect(Object.keys(config.ExposedPorts)).toEqual(["8000/tcp"]);
    expect(config.Entrypoint).toEqual(["/usr/local/bin/authly"]);
    const size = Number(await ok(["image", "inspect", "--format", "{{.Size}}", tag]));
    console.log(`container image ${tag}: ${(size / 1e6).toFixed(1)} MB (binary ${(Bun.file(await ensureBinary()).size / 1e6).toFixed(1)} MB)`);
    expect(size).toBeGreaterThan(0);
  });

  test("serve --embedded on a read-only root with a volume: /health and discovery answer on loopback, uid 10001, HEALTHCHECK passes, admin by exec only, data survives a new container", async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = await startContainer(port);
    const health = await waitHealthy(`${base}/health`);
    if (health !== 200) throw new Error(`no /health within 120 s (last status ${health}):\n${(await podman(["logs", first])).out}`);
    expect(await (await fetch(`${base}/health`)).json()).toEqual({ status: "healthy", database: "connected" });
    const discovery = await fetch(`${base}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const meta = (await discovery.json()) as { issuer: string; token_endpoint: string };
    expect(meta.token_endpoint).toBe(`${meta.issuer}/oauth/token`);

    // The process itself (not just the image's config) runs as the non-root user.
    const pid = await ok(["inspect", "--format", "{{.State.Pid}}", first]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    expect(status.match(/^Uid:\s+(.*)$/m)![1]!.split(/\s+/)).toEqual(["10001", "10001", "10001", "10001"]);
    expect(status.match(/^Gid:\s+(.*)$/m)![1]!.split(/\s+/)).toEqual(["10001", "10001", "10001", "10001"]);

    // The image's own HEALTHCHECK command.
    const hc = await podman(["healthcheck", "run", first]);
    expect(hc.code, hc.err + hc.out).toBe(0);

    // Through the port mapping the source is the bridge address: the admin API refuses it.
    const refused = await fetch(`${base}/admin/health`);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error_description: string }).error_description).toContain("AUTHLY_ADMIN_API_ALLOWED_IPS");

    // Inside the container (exec) the CLI reaches it on loopback; its login lives on the volume.
    await ok(["exec", first, "/usr/local/bin/authly", "admin", "auth", "login", "--username", "admin", "--password", "container-Test-pa55word"]);
    const created = JSON.parse(await ok(["exec", first, "/usr/local/bin/authly", "admin", "client", "create", "--name", "Survives the container", "--type", "public", "--redirect-uri", "http://127.0.0.1:9/cb", "--output", "json"])) as { client_id: string };
    expect(created.client_id).toBeString();

    // A new container on the same volume (an upgrade): the client and the stored login are there.
    await ok(["stop", "-t", "20", first], 60_000);
    await ok(["rm", first]);
    const second = await startContainer(port);
    expect(await waitHealthy(`${base}/health`)).toBe(200);
    const shown = JSON.parse(await ok(["exec", second, "/usr/local/bin/authly", "admin", "client", "show", created.client_id, "--output", "json"])) as { client_name: string };
    expect(shown.client_name).toBe("Survives the container");
    const logs = (await podman(["logs", second])).out + (await podman(["logs", second])).err;
    expect(logs).not.toContain("Creating the embedded PostgreSQL database");
  }, 6 * 60_000);
});
