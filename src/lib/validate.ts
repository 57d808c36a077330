// Input validation that names every bad field: TypeBox errors -> FieldProblem[] with JSON paths
// written the way a person reads them ("redirect_uris[0]"), never echoing the submitted values.
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { ValidationError, type FieldProblem } from "../errors";
import { allTextValid, JSON_LIMITS, parseJsonSafely, type JsonProblem } from "./text";

/** "/redirect_uris/0/x" -> "redirect_uris[0].x" */
export function fieldName(path: string): string {
  const parts = path.split("/").filter(Boolean).map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
  let out = "";
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || "body";
}

function describe(error: { message: string; schema: TSchema; value: unknown }): string {
  const s = error.schema as { anyOf?: { const?: unknown; type?: string }[]; const?: unknown };
  if (Array.isArray(s.anyOf) && s.anyOf.every((x) => x.const !== undefined)) return `must be one of: ${s.anyOf.map((x) => String(x.const)).join(", ")}`;
  if (Array.isArray(s.anyOf) && s.anyOf.some((x) => x.type === "null")) {
    const other = s.anyOf.find((x) => x.type !== "null");
    return `must be ${other?.type === "string" ? "a string" : other?.type ?? "valid"} or null`;
  }
  const m = error.message;
  if (m === "Expected required property") return "is required";
  if (m === "Unexpected property") return "is not a known field";
  return m.replace(/^Expected /, "must be ").replace(/^Unknown format/, "has an invalid format").toLowerCase();
}

/** Every problem of `value` against `schema`, one per field (the first message wins). */
export function schemaProblems(schema: TSchema, value: unknown, prefix = ""): FieldProblem[] {
  const seen = new Map<string, FieldProblem>();
  for (const e of Value.Errors(schema, value)) {
    const field = fieldName(prefix + e.path);
    // A missing required property is also reported as "expected string" at the same path.
    if (!seen.has(field)) seen.set(field, { field, message: describe(e) });
  }
  return [...seen.values()];
}

/** Collects problems from several checks and throws one ValidationError naming all of them. */
export class Problems {
  readonly list: FieldProblem[] = [];
  add(field: string, message: string): void {
    if (!this.list.some((p) => p.field === field)) this.list.push({ field, message });
  }
  addAll(problems: FieldProblem[]): void {
    for (const p of problems) this.add(p.field, p.message);
  }
  has(field: string): boolean {
    return this.list.some((p) => p.field === field || p.field.startsWith(`${field}[`) || p.field.startsWith(`${field}.`));
  }
  throwIfAny(message = "The request is invalid"): void {
    if (this.list.length) throw new ValidationError(`${message}: ${this.list.map((p) => p.field).join(", ")}`, this.list);
  }
}

const JSON_PROBLEMS: Record<JsonProblem, string> = {
  invalid: "must be a JSON object",
  too_deep: `must not nest deeper than ${JSON_LIMITS.maxDepth} levels`,
  too_large: `must not exceed ${JSON_LIMITS.maxBytes} bytes`,
  invalid_text: "must hold only valid text (no NUL, no lone surrogate such as \\ud800)",
};

/** The request body as an object ({} when empty); anything else is a validation error. JSON text
 *  is bounded in depth and size before it is parsed, and its strings must be text (lib/text.ts). */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || body === "") return {};
  if (typeof body === "string") {
    const parsed = parseJsonSafely(body);
    if (!parsed.ok) throw new ValidationError(`The request body ${JSON_PROBLEMS[parsed.problem]}`, [{ field: "body", message: JSON_PROBLEMS[parsed.problem] }]);
    body = parsed.value;
  } else if (!allTextValid(body)) {
    throw new ValidationError(`The request body ${JSON_PROBLEMS.invalid_text}`, [{ field: "body", message: JSON_PROBLEMS.invalid_text }]);
  }
  if (typeof body !== "object" || Array.isArray(body) || body === null) {
    throw new ValidationError("The request body must be a JSON object", [{ field: "body", message: "must be a JSON object" }]);
  }
  return body as Record<string, unknown>;
}

/** Validates `value` against `schema`; throws a ValidationError naming every bad field. */
export function assertSchema<T>(schema: TSchema, value: unknown, extra?: (p: Problems) => void): T {
  const p = new Problems();
  p.addAll(schemaProblems(schema, value));
  extra?.(p);
  p.throwIfAny();
  return value as T;
}

/** Query parameters: optional integer within bounds. */
export function intParam(p: Problems, query: Record<string, unknown>, name: string, def: number, min: number, max: number): number {
  const raw = query[name];
  if (raw === undefined || raw === "") return def;
  const s = String(raw);
  if (!/^\d+$/.test(s)) {
    p.add(name, `must be a whole number between ${min} and ${max}`);
    return def;
  }
  const n = Number.parseInt(s, 10);
  if (n < min || n > max) p.add(name, `must be between ${min} and ${max}`);
  return n;
}

/** Query parameters: optional boolean (true/false/1/0). */
export function boolParam(p: Problems, query: Record<string, unknown>, name: string, def = false): boolean {
  const raw = query[name];
  if (raw === undefined || raw === "") return def;
  const s = String(raw).toLowerCase();
  if (s === "true" || s === "1" || s === "yes") return true;
  if (s === "false" || s === "0" || s === "no") return false;
  p.add(name, "must be true or false");
  return def;
}
