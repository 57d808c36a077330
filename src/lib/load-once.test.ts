import { describe, expect, test } from "bun:test";
import { loadOnce } from "./load-once";

describe("loadOnce", () => {
  test("callers share one load; a failed load is tried again by the next caller, then kept", async () => {
    let calls = 0;
    const get = loadOnce(async () => {
      calls++;
      if (calls === 1) throw new Error("first load fails");
      return { n: calls };
    });
    expect(calls).toBe(0);
    await expect(get()).rejects.toThrow("first load fails");
    const [a, b] = await Promise.all([get(), get()]);
    expect(a).toBe(b);
    expect(await get()).toEqual({ n: 2 });
    expect(calls).toBe(2);
  });
});
