// What the admin CLI prints: cli-table3 tables as the guide draws them, key/value blocks, and
// `--output json` documents (stable shapes, documented in each command's help).
import Table from "cli-table3";

export type OutputFormat = "table" | "json";

/** "2025-07-10 10:00:00" (UTC), as the guide's tables show; "-" for nothing. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toISOString().slice(0, 19).replace("T", " ");
}

/** "2025-07-30 15:30:00 UTC" for expiry lines. */
export function formatUtc(iso: string | null | undefined): string {
  return iso ? `${formatTime(iso)} UTC` : "-";
}

/**
 * Text from the server (a name a user, a registrant or an upstream chose) as a terminal may show
 * it: control characters (C0 with newline and tab, DEL, C1) are written as \xNN, so that none can
 * move the cursor, clear the screen, set the window title or clipboard, or forge another line.
 */
export function inert(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export function renderTable(head: string[], rows: (string | number)[][]): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) table.push(r.map((c) => inert(String(c))));
  // The guide's tables have a rule under the header only; cli-table3 draws one between all rows.
  const lines = table.toString().split("\n");
  const headerRule = lines.findIndex((l) => l.startsWith("├"));
  return lines.filter((l, i) => i === headerRule || !l.startsWith("├")).join("\n");
}

export function printTable(head: string[], rows: (string | number)[][]): void {
  console.log(renderTable(head, rows));
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Aligned `Label: value` lines (values may be lists, shown comma-separated). */
export function printFields(fields: [string, unknown][], indent = ""): void {
  for (const [label, value] of fields) console.log(`${indent}${label}: ${formatValue(value)}`);
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (Array.isArray(value)) return value.length ? inert(value.join(", ")) : "-";
  if (typeof value === "boolean") return value ? "Yes" : "No";
  return inert(String(value));
}

export function success(message: string): void {
  console.log(`✓ ${inert(message)}`);
}

/** Progress or notes that must not pollute JSON on stdout. */
export function note(message: string): void {
  console.error(message);
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** "2 days, 5 hours, 30 minutes" (the guide's uptime). */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const parts: string[] = [];
  if (days) parts.push(plural(days, "day"));
  if (hours) parts.push(plural(hours, "hour"));
  if (minutes || parts.length === 0) parts.push(plural(minutes, "minute"));
  if (!days && !hours && !minutes) return plural(s, "second");
  return parts.join(", ");
}
