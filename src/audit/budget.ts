// Bounds how many rows a flood of one kind of event may write to the audit log (so that a flood of
// refused requests cannot turn the audit log into a write amplifier). Counted in memory, per
// process, in fixed one-minute windows: at most `perSource` rows per source address and
// `perWindow` rows in all per window; the rest are counted as suppressed and reported with the
// first recorded row of the next window (and as a metric).

export interface BudgetDecision {
  /** Write this event's row. */
  record: boolean;
  /** Events suppressed in the previous window (set once, on the first decision of a new window). */
  suppressedBefore?: { count: number; sources: number; windowStart: string };
}

export class AuditBudget {
  private windowStart = -1;
  private readonly perSourceCount = new Map<string, number>();
  private recorded = 0;
  private suppressed = 0;
  private suppressedSources = new Set<string>();
  private pendingReport: BudgetDecision["suppressedBefore"];

  constructor(
    readonly perSource: number,
    readonly perWindow: number,
    private readonly windowMs = 60_000,
  ) {}

  /** Whether an event from `source` at `now` (ms) may write its row. */
  take(source: string, now = Date.now()): BudgetDecision {
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    if (start !== this.windowStart) {
      if (this.suppressed > 0) this.pendingReport = { count: this.suppressed, sources: this.suppressedSources.size, windowStart: new Date(this.windowStart).toISOString() };
      this.windowStart = start;
      this.perSourceCount.clear();
      this.recorded = 0;
      this.suppressed = 0;
      this.suppressedSources = new Set();
    }
    const n = this.perSourceCount.get(source) ?? 0;
    // The map holds only sources that wrote a row, so it never exceeds perWindow entries; the set of
    // suppressed sources is capped the same way (the count stays exact).
    if (n >= this.perSource || this.recorded >= this.perWindow) {
      this.suppressed++;
      if (this.suppressedSources.size < this.perWindow) this.suppressedSources.add(source);
      return { record: false };
    }
    this.perSourceCount.set(source, n + 1);
    this.recorded++;
    const report = this.pendingReport;
    this.pendingReport = undefined;
    return report ? { record: true, suppressedBefore: report } : { record: true };
  }

  /** Events suppressed so far in the current window. */
  get suppressedInWindow(): number {
    return this.suppressed;
  }
}
