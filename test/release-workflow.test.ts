// .github/workflows/release.yml, parsed (Bun.YAML) and checked where a mistake would only show on
// the day of a release: the tag trigger, every build.ts target built and checksummed, the SBOM,
// the image for both platforms from the prebuilt binaries, what the release carries, permissions.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { TARGETS } from "../build";

const ROOT = resolve(import.meta.dir, "..");

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  "working-directory"?: string;
}
interface Job {
  "runs-on": string;
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix: { include: Record<string, string>[] } };
  "timeout-minutes"?: number;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  env: Record<string, string>;
  jobs: Record<string, Job>;
}

const wf = Bun.YAML.parse(readFileSync(join(ROOT, ".github/workflows/release.yml"), "utf8")) as Workflow;
const runs = (job: Job) => job.steps.map((s) => s.run ?? "").join("\n");
const uses = (job: Job, action: string) => job.steps.filter((s) => s.uses?.startsWith(`${action}@`));

describe("release workflow (.github/workflows/release.yml)", () => {
  test("runs on a pushed tag v* and on nothing else", () => {
    expect(Object.keys(wf.on)).toEqual(["push"]);
    expect(wf.on.push).toEqual({ tags: ["v*"] });
    // Read-only by default; each job asks for what it writes.
    expect(wf.permissions).toEqual({ contents: "read" });
  });

  test("jobs: binaries -> image-context -> image -> release, each bounded in time", () => {
    expect(Object.keys(wf.jobs).sort()).toEqual(["binaries", "image", "image-context", "release"]);
    expect(wf.jobs["image-context"]!.needs).toBe("binaries");
    expect(wf.jobs.image!.needs).toBe("image-context");
    expect([wf.jobs.release!.needs].flat().sort()).toEqual(["binaries", "image"]);
    for (const [name, job] of Object.entries(wf.jobs)) {
      expect(job["timeout-minutes"], name).toBeGreaterThan(0);
      for (const step of job.steps) if (step.uses) expect(step.uses, `${name}: ${step.uses}`).toMatch(/^[\w.-]+\/[\w.-]+@v\d+(\.\d+)*$/);
    }
  });

  test("builds every build.ts target with the Bun of the Dockerfile, from the lockfile, and verifies the checksums", () => {
    const job = wf.jobs.binaries!;
    const dockerBun = readFileSync(join(ROOT, "Dockerfile"), "utf8").match(/^ARG BUN_VERSION=(\S+)$/m)![1];
    expect(wf.env.BUN_VERSION).toBe(dockerBun!);
    expect(uses(job, "oven-sh/setup-bun")[0]!.with!["bun-version"]).toBe("${{ env.BUN_VERSION }}");
    expect(runs(job)).toContain("bun install --frozen-lockfile");
    // --all is every target in build.ts (the test would need changing if the list were spelled out).
    expect(runs(job)).toMatch(/^bun run build --all$/m);
    expect(TARGETS.length).toBeGreaterThanOrEqual(6);
    const verify = job.steps.find((s) => s.run?.includes("sha256sum -c SHA256SUMS"))!;
    expect(verify["working-directory"]).toBe("dist");
    expect(job.steps.indexOf(verify)).toBeGreaterThan(job.steps.findIndex((s) => s.run === "bun run build --all"));
    expect(uses(job, "actions/upload-artifact")[0]!.with).toMatchObject({ name: "dist", path: "dist/" });
  });

  test("writes a CycloneDX SBOM of the production dependencies into dist/", () => {
    const sbom = wf.jobs.binaries!.steps.find((s) => /SBOM/.test(s.name ?? ""))!;
    expect(sbom.run).toContain("bun install --frozen-lockfile --production");
    expect(sbom.run).toMatch(/npx --yes @cyclonedx\/cyclonedx-npm@\d+\.\d+\.\d+ --omit dev .*--output-format JSON --output-file "dist\/authly-[^"]*\.cdx\.json"/);
  });

  test("the image: both platforms' file sets assembled natively from the built binaries, then one buildx build of Dockerfile.prebuilt", () => {
    const ctx = wf.jobs["image-context"]!;
    const matrix = ctx.strategy!.matrix.include;
    expect(matrix.map((m) => m.arch).sort()).toEqual(["amd64", "arm64"]);
    for (const m of matrix) {
      // The binary is one build.ts makes for that architecture (glibc), and the runner is native.
      const target = TARGETS.find((t) => `authly-${t.name}` === m.binary);
      expect(target, m.binary).toBeDefined();
      expect(target!.os).toBe("linux");
      expect(target!.musl).toBe(false);
      expect(target!.arch).toBe(m.arch === "amd64" ? "x64" : "arm64");
      expect(m.runner).toMatch(m.arch === "arm64" ? /-arm$/ : /^ubuntu-[\d.]+$/);
    }
    expect(ctx["runs-on"]).toBe("${{ matrix.runner }}");
    expect(runs(ctx)).toContain('scripts/rootfs-files.sh context "dist/${{ matrix.binary }}" "image/linux-${{ matrix.arch }}"');
    expect(existsSync(join(ROOT, "scripts/rootfs-files.sh"))).toBe(true);

    const image = wf.jobs.image!;
    expect(image.permissions).toEqual({ contents: "read", packages: "write" });
    expect(uses(image, "docker/setup-buildx-action")).toHaveLength(1);
    const build = uses(image, "docker/build-push-action")[0]!;
    expect(build.with!.file).toBe("Dockerfile.prebuilt");
    expect(existsSync(join(ROOT, String(build.with!.file)))).toBe(true);
    expect(build.with!.context).toBe("image");
    expect(String(build.with!.platforms).split(",").sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect(build.with!.push).toBe(true);
    expect(String(build.with!.tags)).toContain("ghcr.io/${{ github.repository }}:${{ github.ref_name }}");
  });

  test("the release carries every binary, its .sha256, SHA256SUMS and the SBOM, and only this job may write contents", () => {
    const job = wf.jobs.release!;
    expect(job.permissions).toEqual({ contents: "write" });
    const publish = job.steps.find((s) => s.run?.includes("gh release create"))!;
    expect(publish.env!.GH_TOKEN).toBe("${{ github.token }}");
    // Run from dist/: authly-* is every binary, its .sha256 and the authly-<tag>-sbom.cdx.json.
    expect(publish.run).toMatch(/^cd dist$/m);
    expect(publish.run).toContain("sha256sum -c SHA256SUMS");
    expect(publish.run).toMatch(/authly-\* SHA256SUMS\s*$/);
    expect(publish.run).toContain("--verify-tag");
    for (const [name, j] of Object.entries(wf.jobs)) if (name !== "release") expect(j.permissions?.contents ?? "read", name).toBe("read");
  });
});
