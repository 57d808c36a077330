// Request parameters of the front channel (RFC 6749 §3.1): from the query string or a raw
// application/x-www-form-urlencoded body. Parameters sent without a value are treated as omitted;
// a parameter sent more than once, or whose name or value is not valid text (invalid UTF-8, NUL:
// lib/text.ts), is reported so the caller can answer with its own error.
import { parseUrlEncoded, rawQuery, urlEncodedBody } from "../lib/text";

export interface ParsedParams {
  /** The single value of every parameter that has one (empty values dropped). */
  values: Record<string, string>;
  /** Names of parameters that were sent more than once with a value. */
  repeated: Set<string>;
  /** Names of parameters (or "(parameter name)") that are not valid text; absent from `values`. */
  invalid: Set<string>;
  /** Every value of the parameters that may repeat (MULTI_VALUED), in order. */
  multi?: Record<string, string[]>;
}

/** Parameters that may be sent more than once: RFC 8707 §2 `resource`. */
export const MULTI_VALUED = new Set(["resource"]);

/** Parses a raw query string or form body (without '?'). */
export function parseParams(raw: string): ParsedParams {
  const values: Record<string, string> = Object.create(null);
  const repeated = new Set<string>();
  const multi: Record<string, string[]> = Object.create(null);
  const { fields, invalid } = parseUrlEncoded(raw);
  for (const { name, value } of fields) {
    if (value === "") continue;
    if (MULTI_VALUED.has(name)) (multi[name] ??= []).push(value);
    if (name in values) {
      if (!MULTI_VALUED.has(name)) repeated.add(name);
    }
    else values[name] = value;
  }
  return { values, repeated, invalid: new Set(invalid), multi };
}

/** Parses the raw body of a form POST; a missing or wrong Content-Type gives undefined. */
export async function readFormBody(request: Request): Promise<ParsedParams | undefined> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return undefined;
  return parseParams(urlEncodedBody(await request.arrayBuffer()));
}

/** The parameters of a request: the query string for GET, the form body for POST (OIDC Core §3.1.2.1). */
export async function readRequestParams(request: Request): Promise<ParsedParams | undefined> {
  if (request.method === "POST") return readFormBody(request);
  return parseParams(rawQuery(request.url));
}
