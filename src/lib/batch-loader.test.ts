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
    }, 3);
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((k) => loader.load(k)));
    expect(sizes).toEqual([3, 3, 1]);
  });
});
