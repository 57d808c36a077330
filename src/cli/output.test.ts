// The guide's formats: "2025-07-10 10:00:00" timestamps, "2 days, 5 hours, 30 minutes" uptime,
// tables with a rule under the header only.
import { expect, test } from "bun:test";
import { formatDuration, formatTime, formatUtc, renderTable } from "./output";

test("timestamps in UTC as the guide's tables show them", () => {
  expect(formatTime("2025-07-10T10:00:00.123Z")).toBe("2025-07-10 10:00:00");
  expect(formatUtc("2025-07-30T15:30:00Z")).toBe("2025-07-30 15:30:00 UTC");
  expect(formatTime(null)).toBe("-");
});

test("uptime as the guide writes it", () => {
  expect(formatDuration(2 * 86400 + 5 * 3600 + 30 * 60 + 12)).toBe("2 days, 5 hours, 30 minutes");
  expect(formatDuration(3600)).toBe("1 hour");
  expect(formatDuration(42)).toBe("42 seconds");
});

test("tables: box drawing, one rule under the header, none between rows", () => {
  const t = renderTable(["Name", "Type"], [["a", "public"], ["b", "confidential"]]).split("\n");
  expect(t[0]).toStartWith("┌");
  expect(t[2]).toStartWith("├");
  expect(t.filter((l) => l.startsWith("├")).length).toBe(1);
  expect(t.at(-1)).toStartWith("└");
  expect(t.length).toBe(6);
});
