import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "./migrations";

test("every file in migrations/ is embedded, in order, with its content", () => {
  const dir = join(import.meta.dir, "../../migrations");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
  expect(MIGRATIONS.map((m) => `${m.name}.sql`)).toEqual(files);
  MIGRATIONS.forEach((m, i) => {
    // The version is the file's number (numbers may be taken out of order by parallel work, so a
    // gap is allowed; the order is not).
    expect(m.version).toBe(Number(m.name.slice(0, 4)));
    if (i > 0) expect(m.version).toBeGreaterThan(MIGRATIONS[i - 1]!.version);
    expect(m.sql).toBe(readFileSync(join(dir, `${m.name}.sql`), "utf8"));
  });
});
