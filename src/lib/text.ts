// The one rule for text taken from a request (SECURITY.md "Input text"): a value is text when it is
// well-formed Unicode (valid UTF-8 on the wire, no lone surrogate once decoded) and holds no NUL
// (U+0000, which PostgreSQL text cannot store). Every parser of request input applies it and
// refuses the request with its endpoint's own error; stores use it to keep such keys from SQL.

/** True when `s` has a uuid's shape (36 hex digits and hyphens): only such a key may be compared
 *  with a uuid column, anything else would fail the statement (22P02); callers answer "not found". */
export function hasUuidShape(s: string): boolean {
  return /^[0-9a-f-]{36}$/i.test(s);
}

/** True when `s` can be stored and compared as text: well-formed and without U+0000. */
export function isValidText(s: string): boolean {
  return !s.includes("\u0000") && s.isWellFormed();
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Bytes as UTF-8 text, or undefined when they are not valid UTF-8. */
export function decodeUtf8(bytes: ArrayBuffer | Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** One application/x-www-form-urlencoded name or value ('+' is a space; WHATWG URL §5.1), strictly:
 *  percent-escapes must form valid UTF-8, else undefined. A '%' not followed by two hex digits is
 *  kept as it is, as URLSearchParams does. */
export function formDecode(raw: string): string | undefined {
  const s = raw.includes("+") ? raw.replaceAll("+", " ") : raw;
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    // A malformed escape ("%zz") is literal text; only the bytes of real escapes must be UTF-8.
    const bytes: number[] = [];
    const enc = new TextEncoder();
    for (let i = 0; i < s.length; ) {
      if (s[i] === "%" && HEX.test(s.slice(i + 1, i + 3))) {
        bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
        i += 3;
      } else {
        const cp = s.codePointAt(i)!;
        const ch = String.fromCodePoint(cp);
        for (const b of enc.encode(ch)) bytes.push(b);
        i += ch.length;
      }
    }
    return decodeUtf8(new Uint8Array(bytes));
  }
}

/** One path segment, strictly percent-decoded ('+' is literal there); undefined when not UTF-8. */
export function pathDecode(raw: string): string | undefined {
  return formDecode(raw.replaceAll("+", "%2B"));
}

export interface UrlEncodedField {
  name: string;
  value: string;
}

/** Parses a query string or form body (without '?'). `invalid` names every field (or "(name)")
 *  whose name or value is not valid text. */
export function parseUrlEncoded(raw: string): { fields: UrlEncodedField[]; invalid: string[] } {
  const fields: UrlEncodedField[] = [];
  const invalid: string[] = [];
  if (!raw) return { fields, invalid };
  for (const part of raw.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const name = formDecode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : formDecode(part.slice(eq + 1));
    if (name === undefined || !isValidText(name)) {
      invalid.push("(parameter name)");
      continue;
    }
    if (value === undefined || !isValidText(value)) {
      invalid.push(name);
      continue;
    }
    fields.push({ name, value });
  }
  return { fields, invalid: [...new Set(invalid)] };
}

/** The query string of a request URL, without '?' and fragment. */
export function rawQuery(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return "";
  const h = url.indexOf("#", q);
  return url.slice(q + 1, h < 0 ? undefined : h);
}

/** A short printable name for a field in an error message (never the value). */
export function fieldLabel(name: string): string {
  const safe = name.replace(/[^\x21-\x7e]/g, "?");
  return safe.length > 40 ? `${safe.slice(0, 40)}...` : safe;
}

/** Deepest nesting and largest size JSON from a request may have (SECURITY.md "Input text"). */
export const JSON_LIMITS = { maxDepth: 32, maxBytes: 1024 * 1024 };

export type JsonProblem = "invalid" | "too_deep" | "too_large" | "invalid_text";

/** JSON.parse for untrusted text: refuses input over `maxBytes` or nested deeper than `maxDepth`
 *  before parsing (so the parser's recursion cannot overflow), and any string or key that is not
 *  valid text (NUL, a lone surrogate such as "\ud800"). */
export function parseJsonSafely(text: string, limits: { maxDepth?: number; maxBytes?: number } = {}): { ok: true; value: unknown } | { ok: false; problem: JsonProblem } {
  const maxDepth = limits.maxDepth ?? JSON_LIMITS.maxDepth;
  const maxBytes = limits.maxBytes ?? JSON_LIMITS.maxBytes;
  if (text.length > maxBytes) return { ok: false, problem: "too_large" };
  if (jsonDepth(text) > maxDepth) return { ok: false, problem: "too_deep" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, problem: "invalid" };
  }
  return allTextValid(value) ? { ok: true, value } : { ok: false, problem: "invalid_text" };
}

/** Deepest bracket nesting of JSON text, strings skipped (a linear scan, no recursion). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** True when every string and key in a parsed JSON value is valid text (iterative walk). */
export function allTextValid(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === "string") {
      if (!isValidText(v)) return false;
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (!isValidText(k)) return false;
        stack.push(x);
      }
    }
  }
  return true;
}

/** A urlencoded body as text: its UTF-8 when valid; otherwise every non-ASCII byte as a
 *  percent-escape, so that parseUrlEncoded names the one field whose bytes are not UTF-8. */
export function urlEncodedBody(bytes: ArrayBuffer | Uint8Array): string {
  const text = decodeUtf8(bytes);
  if (text !== undefined) return text;
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let out = "";
  for (const b of u8) out += b < 0x80 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/** A JWS/JWT segment (base64url) holding a JSON object, or undefined when it does not. */
export function base64urlJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
