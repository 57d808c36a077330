import { describe, expect, test } from "bun:test";
import { AuditBudget } from "./budget";

describe("audit budget for refused requests", () => {
  test("at most perSource rows per source and minute; the rest counted and reported with the next window's first row", () => {
    const b = new AuditBudget(2, 100);
    const t0 = 60_000 * 1000;
    expect([b.take("a", t0), b.take("a", t0 + 1), b.take("a", t0 + 2), b.take("a", t0 + 3)].map((d) => d.record)).toEqual([true, true, false, false]);
    expect(b.take("b", t0 + 4).record).toBe(true);
    expect(b.suppressedInWindow).toBe(2);
    const next = b.take("c", t0 + 60_000);
    expect(next).toEqual({ record: true, suppressedBefore: { count: 2, sources: 1, windowStart: new Date(t0).toISOString() } });
    expect(b.take("a", t0 + 60_001)).toEqual({ record: true });
  });

  test("at most perWindow rows in all, whatever the number of sources", () => {
    const b = new AuditBudget(5, 3);
    const decisions = Array.from({ length: 10 }, (_, i) => b.take(`10.0.0.${i}`, 0).record);
    expect(decisions.filter(Boolean).length).toBe(3);
    expect(b.suppressedInWindow).toBe(7);
  });
});
