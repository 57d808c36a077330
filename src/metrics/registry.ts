// A small in-process metrics registry (counters, gauges, histograms) with JSON snapshots that the
// workers of one server merge, rendered in the Prometheus text exposition format 0.0.4.

export type Labels = Record<string, string | number>;
export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricDef {
  type: MetricType;
  help: string;
  /** Histogram upper bounds in seconds (ascending). */
  buckets?: readonly number[];
}

export interface HistogramValue {
  /** Per-bucket counts (not cumulative), one per bound. */
  buckets: number[];
  sum: number;
  count: number;
}

/** name -> rendered label set (`a="x",b="y"`, "" for none) -> value. Plain JSON: crosses IPC. */
export type Snapshot = Record<string, Record<string, number | HistogramValue>>;

export class Registry<Name extends string = string> {
  private readonly values = new Map<string, Map<string, number | HistogramValue>>();

  constructor(readonly defs: Readonly<Record<Name, MetricDef>>) {}

  inc(name: Name, labels: Labels = {}, by = 1): void {
    this.incKey(name, labelKey(labels), by);
  }

  /** inc with a label set already rendered by labelKey (hot paths render theirs once). */
  incKey(name: Name, key: string, by = 1): void {
    const series = this.series(name);
    series.set(key, ((series.get(key) as number | undefined) ?? 0) + by);
  }

  set(name: Name, labels: Labels, value: number): void {
    this.series(name).set(labelKey(labels), value);
  }

  observe(name: Name, labels: Labels, value: number): void {
    this.observeKey(name, labelKey(labels), value);
  }

  /** observe with a label set already rendered by labelKey. */
  observeKey(name: Name, key: string, value: number): void {
    const bounds = this.defs[name].buckets ?? [];
    const series = this.series(name);
    let h = series.get(key) as HistogramValue | undefined;
    if (!h) series.set(key, (h = { buckets: bounds.map(() => 0), sum: 0, count: 0 }));
    const i = bounds.findIndex((b) => value <= b);
    if (i >= 0) h.buckets[i]! += 1;
    h.sum += value;
    h.count += 1;
  }

  snapshot(): Snapshot {
    const out: Snapshot = {};
    for (const [name, series] of this.values) {
      out[name] = {};
      for (const [k, v] of series) out[name][k] = typeof v === "number" ? v : { buckets: [...v.buckets], sum: v.sum, count: v.count };
    }
    return out;
  }

  private series(name: Name): Map<string, number | HistogramValue> {
    if (!this.defs[name]) throw new Error(`unknown metric ${name}`);
    let s = this.values.get(name);
    if (!s) this.values.set(name, (s = new Map()));
    return s;
  }
}

/** Sums the snapshots of several processes (counters, histograms and additive gauges alike). */
export function mergeSnapshots(snaps: Snapshot[]): Snapshot {
  const out: Snapshot = {};
  for (const snap of snaps) {
    for (const [name, series] of Object.entries(snap)) {
      const target = (out[name] ??= {});
      for (const [k, v] of Object.entries(series)) {
        const have = target[k];
        if (typeof v === "number") target[k] = ((have as number | undefined) ?? 0) + v;
        else if (!have) target[k] = { buckets: [...v.buckets], sum: v.sum, count: v.count };
        else {
          const h = have as HistogramValue;
          v.buckets.forEach((n, i) => (h.buckets[i] = (h.buckets[i] ?? 0) + n));
          h.sum += v.sum;
          h.count += v.count;
        }
      }
    }
  }
  return out;
}

/** Prometheus text format: HELP and TYPE for every defined metric, then its series. */
export function renderPrometheus(defs: Readonly<Record<string, MetricDef>>, snap: Snapshot): string {
  const lines: string[] = [];
  for (const [name, def] of Object.entries(defs)) {
    lines.push(`# HELP ${name} ${def.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
    lines.push(`# TYPE ${name} ${def.type}`);
    const series = snap[name] ?? {};
    for (const [k, v] of Object.entries(series)) {
      if (typeof v === "number") {
        lines.push(`${name}${k ? `{${k}}` : ""} ${formatNumber(v)}`);
        continue;
      }
      let cumulative = 0;
      (def.buckets ?? []).forEach((bound, i) => {
        cumulative += v.buckets[i] ?? 0;
        lines.push(`${name}_bucket{${joinLabels(k, `le="${formatNumber(bound)}"`)}} ${cumulative}`);
      });
      lines.push(`${name}_bucket{${joinLabels(k, 'le="+Inf"')}} ${v.count}`);
      lines.push(`${name}_sum${k ? `{${k}}` : ""} ${formatNumber(v.sum)}`);
      lines.push(`${name}_count${k ? `{${k}}` : ""} ${v.count}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(String(labels[k]))}"`)
    .join(",");
}

function escapeLabel(v: string): string {
  // Hot path (every request): most values need no escaping.
  if (!/[\\"\n]/.test(v)) return v;
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function joinLabels(a: string, b: string): string {
  return a ? `${a},${b}` : b;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}
