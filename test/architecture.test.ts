// Keeps STYLE.md's import rules true: which layer may import what, where SQL and process.env may
// appear, and no import cycles.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "../src");

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") && !p.endsWith(".test.ts") && !p.endsWith(".d.ts") ? [p] : [];
  });
}

const files = walk(SRC).map((abs) => ({ abs, rel: relative(SRC, abs), text: readFileSync(abs, "utf8") }));

function imports(text: string): string[] {
  const out: string[] = [];
  const re = /(?:import|export)\s[^;]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of text.matchAll(re)) out.push((m[1] ?? m[2])!);
  return out;
}

function resolveLocal(from: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = resolve(dirname(from), spec);
  for (const cand of [base, `${base}.ts`, join(base, "index.ts")]) {
    try {
      if (statSync(cand).isFile()) return cand;
    } catch {}
  }
  return undefined;
}

describe("architecture (STYLE.md: which way imports go)", () => {
  test("elysia only in app.ts, http/ and *routes.ts", () => {
    const bad = files.filter((f) => imports(f.text).some((i) => i === "elysia" || i.startsWith("@elysiajs/")) && !(f.rel === "app.ts" || f.rel.startsWith("http/") || /routes\.ts$/.test(f.rel)));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  test("process.env only in config.ts and modes.ts", () => {
    const bad = files.filter((f) => /process\.env/.test(f.text) && !["config.ts", "modes.ts"].includes(f.rel));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  test("SQL only in store.ts files and db/", () => {
    const sqlTag = /\b(sql|tx)\s*(<[^>]*>)?\s*`\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|DROP|ALTER)\b/i;
    const bad = files.filter((f) => sqlTag.test(f.text) && !(/(^|\/)store\.ts$/.test(f.rel) || f.rel.startsWith("db/") || /-store\.ts$/.test(f.rel)));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  test("citty and cli-table3 only in cli/ and main.ts", () => {
    const bad = files.filter((f) => imports(f.text).some((i) => i === "citty" || i === "cli-table3") && !(f.rel.startsWith("cli/") || f.rel === "main.ts"));
    expect(bad.map((f) => f.rel)).toEqual([]);
  });

  test("the admin CLI is API-first: cli/admin never imports a store, db/ or the server", () => {
    const bad: string[] = [];
    for (const f of files.filter((f) => f.rel.startsWith("cli/admin/") || f.rel === "cli/api-client.ts")) {
      for (const i of imports(f.text)) {
        const target = resolveLocal(f.abs, i);
        if (!target) continue;
        const t = relative(SRC, target);
        if (/store\.ts$/.test(t) || t.startsWith("db/") || t === "server.ts" || t === "app.ts") bad.push(`${f.rel} -> ${t}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test("no import cycles (static imports)", () => {
    const graph = new Map<string, string[]>();
    for (const f of files) {
      const staticImports = [...f.text.matchAll(/^\s*(?:import|export)\s(?!type\b)[^;]*?from\s+["']([^"']+)["']/gm)].map((m) => m[1]!);
      graph.set(f.abs, staticImports.map((i) => resolveLocal(f.abs, i)).filter((x): x is string => Boolean(x)));
    }
    const state = new Map<string, 1 | 2>();
    const cycles: string[] = [];
    const visit = (n: string, stack: string[]) => {
      if (state.get(n) === 2) return;
      if (state.get(n) === 1) {
        cycles.push([...stack.slice(stack.indexOf(n)), n].map((p) => relative(SRC, p)).join(" -> "));
        return;
      }
      state.set(n, 1);
      for (const m of graph.get(n) ?? []) visit(m, [...stack, n]);
      state.set(n, 2);
    };
    for (const n of graph.keys()) visit(n, []);
    expect(cycles).toEqual([]);
  });
});
