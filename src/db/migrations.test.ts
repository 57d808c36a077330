import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "./migrations";

test("every file in migrations/ is embedded, in order, with its content", () => {
  const dir = join(import.meta.dir, "../../migrations");
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
  expect(MIGRATIONS.map((m) => `${m.name}.sql`)).toEqual(files);
  MIGRATIONS.forEach((m, i) => {
    expect(m.version).toBe(i + 1);
    expect(m.sql).toBe(readFileSync(join(dir, `${m.name}.sql`), "utf8"));
  });
});
