// build.ts: target names, the host target, and how a failed cross-compile is reported.
import { describe, expect, test } from "bun:test";
import { binaryPath, explainFailure, hostTarget, TARGETS } from "../build";

describe("build.ts", () => {
  test("release targets: linux x64/arm64 (glibc and musl) and darwin x64/arm64", () => {
    expect(TARGETS.map((t) => t.name).sort()).toEqual(["darwin-arm64", "darwin-x64", "linux-arm64", "linux-arm64-musl", "linux-x64", "linux-x64-musl"]);
    for (const t of TARGETS) expect(t.bun).toStartWith(`bun-${t.os}-${t.arch}`);
    expect(binaryPath(hostTarget())).toEndWith(`/dist/authly-${hostTarget().name}`);
    expect(TARGETS).toContain(hostTarget());
  });

  test("a runtime that cannot be downloaded is named as a network problem, not faked", () => {
    const why = explainFailure("  [2ms]  bundle  2 modules\nFailed to download 'bun-darwin-aarch64-v1.4.5': ConnectionRefused\n");
    expect(why).toContain("Failed to download 'bun-darwin-aarch64-v1.4.5'");
    expect(why).toContain("npm registry");
    expect(explainFailure("error: Could not resolve: \"./nope\"")).toBe('error: Could not resolve: "./nope"');
  });

  test("an unknown target is refused with the list (exit 2)", () => {
    const r = Bun.spawnSync([process.execPath, "run", `${import.meta.dir}/../build.ts`, "--target", "plan9-mips"], { stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toContain("unknown target: plan9-mips");
  });
});
