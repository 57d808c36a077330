import { describe, expect, test } from "bun:test";
import { BatchLoader } from "./batch-loader";

describe("BatchLoader", () => {
  test("answers lookups of one loop turn with one fetch, duplicates included", async () => {
    const calls: string[][] = [];
    const loader = new BatchLoader<string, number>(async (keys) => {
      calls.push(keys);
      return new Map(keys.filter((k) => k !== "missing").map((k) => [k, k.length]));
    });
    const results = await Promise.all(["a", "bb", "a", "missing", "ccc"].map((k) => loader.load(k)));
    expect(results).toEqual([1, 2, 1, undefined, 3]);
    expect(calls).toEqual([["a", "bb", "missing", "ccc"]]);
    expect(await loader.load("dddd")).toBe(4);
    expect(calls.length).toBe(2);
  });

  test("a failed fetch rejects every waiter of its batch only", async () => {
    let fail = true;
    const loader = new BatchLoader<string, string>(async (keys) => {
      if (fail) throw new Error("down");
      return new Map(keys.map((k) => [k, k]));
    });
    const failed = await Promise.allSettled([loader.load("x"), loader.load("y")]);
    expect(failed.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await loader.load("z")).toBe("z");
  });

  test("splits batches at the maximum size", async () => {
    const sizes: number[] = [];
    const loader = new BatchLoader<number, number>(async (keys) => {
      sizes.push(keys.length);
      return new Map(keys.map((k) => [k, k]));
    }, { maxBatch: 3 });
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((k) => loader.load(k)));
    expect(sizes).toEqual([3, 3, 1]);
  });
});

describe("BatchLoader failure isolation", () => {
  // Issue 12 item 2: one caller's bad key (a NUL byte PostgreSQL refuses) failed every other
  // caller of the same batch.
  const poisoned = () => {
    const calls: string[][] = [];
    const loader = new BatchLoader<string, string>(async (keys) => {
      calls.push(keys);
      if (keys.some((k) => k.includes("\u0000"))) throw new Error("invalid byte sequence for encoding \"UTF8\": 0x00");
      return new Map(keys.filter((k) => k !== "missing").map((k) => [k, k.toUpperCase()]));
    });
    return { calls, loader };
  };

  test("a failing batch is retried key by key: one bad key fails only its own callers", async () => {
    const { calls, loader } = poisoned();
    const settled = await Promise.allSettled(["a", "bad\u0000", "b", "missing", "bad\u0000", "a"].map((k) => loader.load(k)));
    expect(settled.map((r) => (r.status === "fulfilled" ? r.value : "rejected"))).toEqual(["A", "rejected", "B", undefined, "rejected", "A"]);
    // One batch, then each of its four distinct keys alone.
    expect(calls[0]).toEqual(["a", "bad\u0000", "b", "missing"]);
    expect(calls.slice(1).sort()).toEqual([["a"], ["b"], ["bad\u0000"], ["missing"]]);
  });

  test("keys the loader is told can never exist are answered as not found without a fetch", async () => {
    const calls: string[][] = [];
    const loader = new BatchLoader<string, string>(async (keys) => {
      calls.push(keys);
      return new Map(keys.map((k) => [k, k]));
    }, { impossibleKey: (k) => k.includes("\u0000") });
    expect(await Promise.all([loader.load("x\u0000"), loader.load("y")])).toEqual([undefined, "y"]);
    expect(calls).toEqual([["y"]]);
  });

  test("a failure the loader is told is systemic (e.g. the database is down) is not retried key by key", async () => {
    const calls: string[][] = [];
    const loader = new BatchLoader<string, string>(async (keys) => {
      calls.push(keys);
      throw Object.assign(new Error("down"), { code: "ECONNREFUSED" });
    }, { retryAlone: (e) => (e as { code?: string }).code !== "ECONNREFUSED" });
    const settled = await Promise.allSettled([loader.load("a"), loader.load("b")]);
    expect(settled.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(calls).toEqual([["a", "b"]]);
  });

  test("with maxInFlight, keys that arrive while fetches run go together in the next fetch", async () => {
    const calls: string[][] = [];
    const gates: (() => void)[] = [];
    const loader = new BatchLoader<string, string>(async (keys) => {
      calls.push(keys);
      await new Promise<void>((r) => gates.push(r));
      return new Map(keys.map((k) => [k, k.toUpperCase()]));
    }, { maxInFlight: 1, maxBatch: 3 });
    const first = loader.load("a");
    await Bun.sleep(5);
    expect(calls).toEqual([["a"]]);
    // Five more while the first fetch runs: nothing is fetched until it ends.
    const more = ["b", "c", "d", "e", "f"].map((k) => loader.load(k));
    await Bun.sleep(5);
    expect(calls.length).toBe(1);
    gates.shift()!();
    expect(await first).toBe("A");
    await Bun.sleep(5);
    // Then at most maxBatch keys per fetch, one fetch at a time.
    expect(calls).toEqual([["a"], ["b", "c", "d"]]);
    gates.shift()!();
    await Bun.sleep(5);
    expect(calls).toEqual([["a"], ["b", "c", "d"], ["e", "f"]]);
    gates.shift()!();
    expect(await Promise.all(more)).toEqual(["B", "C", "D", "E", "F"]);
  });

  test("with maxInFlight, a failed fetch frees its place for the keys waiting", async () => {
    let fail = true;
    const calls: string[][] = [];
    const loader = new BatchLoader<string, string>(async (keys) => {
      calls.push(keys);
      await Bun.sleep(5);
      if (fail) throw Object.assign(new Error("down"), { code: "ECONNREFUSED" });
      return new Map(keys.map((k) => [k, k]));
    }, { maxInFlight: 1, retryAlone: () => false });
    const a = loader.load("a");
    await Bun.sleep(1);
    const b = loader.load("b");
    fail = true;
    const settledA = await Promise.allSettled([a]);
    fail = false;
    expect(settledA[0]!.status).toBe("rejected");
    expect(await b).toBe("b");
    expect(calls).toEqual([["a"], ["b"]]);
  });
});
