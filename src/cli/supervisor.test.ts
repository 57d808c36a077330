// The supervisor's pure decisions: how it re-runs itself, how many workers a platform gets, and
// the restart back-off.
import { describe, expect, test } from "bun:test";
import { backoffMs, planWorkers, selfCommand } from "./supervisor";

describe("supervisor", () => {
  test("a compiled binary re-runs itself; a source run re-runs bun with the entry file", () => {
    expect(selfCommand(["serve"], "/$bunfs/root/authly-linux-x64", "/usr/local/bin/authly")).toEqual(["/usr/local/bin/authly", "serve"]);
    expect(selfCommand(["serve"], "B:\\~BUN\\root\\authly.exe", "C:\\authly.exe")).toEqual(["C:\\authly.exe", "serve"]);
    expect(selfCommand(["serve"], "/work/src/main.ts", "/usr/bin/bun")).toEqual(["/usr/bin/bun", "/work/src/main.ts", "serve"]);
  });

  test("SO_REUSEPORT balancing is Linux-only: elsewhere --workers N falls back to one process, with a note", () => {
    expect(planWorkers(4, "linux")).toEqual({ count: 4 });
    expect(planWorkers(1, "darwin")).toEqual({ count: 1 });
    const mac = planWorkers(4, "darwin");
    expect(mac.count).toBe(1);
    expect(mac.note).toContain("SO_REUSEPORT");
    expect(planWorkers(2, "win32").count).toBe(1);
  });

  test("restart back-off doubles from 100 ms and stops growing at 10 s", () => {
    expect([0, 1, 2, 3].map(backoffMs)).toEqual([100, 200, 400, 800]);
    expect(backoffMs(7)).toBe(10_000);
    expect(backoffMs(50)).toBe(10_000);
  });
});
