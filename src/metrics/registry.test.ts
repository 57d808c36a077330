// The Prometheus text exposition format 0.0.4 and the merge of worker snapshots.
import { describe, expect, test } from "bun:test";
import { mergeSnapshots, Registry, renderPrometheus } from "./registry";

const defs = {
  req_total: { type: "counter", help: "Requests." },
  lat_seconds: { type: "histogram", help: "Latency.", buckets: [0.1, 1] },
  pool: { type: "gauge", help: "Pool size." },
} as const;

describe("metrics registry", () => {
  test("renders HELP, TYPE, sorted and escaped labels, and cumulative histogram buckets", () => {
    const r = new Registry(defs);
    r.inc("req_total", { status: 200, method: "GET" });
    r.inc("req_total", { method: "GET", status: 200 }, 2);
    r.inc("req_total", { method: "GET", status: 'we"ird\n' });
    r.observe("lat_seconds", { route: "/x" }, 0.05);
    r.observe("lat_seconds", { route: "/x" }, 0.5);
    r.observe("lat_seconds", { route: "/x" }, 5);
    const text = renderPrometheus(defs, r.snapshot());
    expect(text).toContain("# HELP req_total Requests.\n# TYPE req_total counter\n");
    expect(text).toContain('req_total{method="GET",status="200"} 3\n');
    expect(text).toContain('req_total{method="GET",status="we\\"ird\\n"} 1\n');
    expect(text).toContain('lat_seconds_bucket{route="/x",le="0.1"} 1\n');
    expect(text).toContain('lat_seconds_bucket{route="/x",le="1"} 2\n');
    expect(text).toContain('lat_seconds_bucket{route="/x",le="+Inf"} 3\n');
    expect(text).toContain('lat_seconds_sum{route="/x"} 5.55\n');
    expect(text).toContain('lat_seconds_count{route="/x"} 3\n');
    expect(text).toContain("# TYPE pool gauge\n");
  });

  test("merging worker snapshots sums counters, gauges and histograms", () => {
    const a = new Registry(defs);
    const b = new Registry(defs);
    a.inc("req_total", { s: 1 }, 2);
    b.inc("req_total", { s: 1 }, 3);
    b.inc("req_total", { s: 2 });
    a.set("pool", {}, 5);
    b.set("pool", {}, 5);
    a.observe("lat_seconds", {}, 0.05);
    b.observe("lat_seconds", {}, 0.5);
    const text = renderPrometheus(defs, mergeSnapshots([a.snapshot(), b.snapshot()]));
    expect(text).toContain('req_total{s="1"} 5\n');
    expect(text).toContain('req_total{s="2"} 1\n');
    expect(text).toContain("pool 10\n");
    expect(text).toContain('lat_seconds_bucket{le="1"} 2\n');
    expect(text).toContain("lat_seconds_count 2\n");
  });

  test("an unknown metric name is a programming error", () => {
    const r = new Registry(defs);
    expect(() => r.inc("nope" as never)).toThrow("unknown metric");
  });
});
