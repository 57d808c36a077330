// Form bodies of the back-channel endpoints (RFC 6749 §3.2, Appendix B): parsed from the raw text
// so that a repeated parameter is invalid_request, an empty one counts as omitted (§3.1) and an
// unknown one is ignored. A body or parameter that is not valid text (invalid UTF-8, NUL; the rule
// of lib/text.ts) is invalid_request before anything reaches the database.
import { OAuthError } from "../errors";
import { fieldLabel, parseUrlEncoded, urlEncodedBody } from "../lib/text";

/** Parameters that may be sent more than once: RFC 8707 §2 `resource`. */
const FORM_MULTI_VALUED = new Set(["resource"]);

export class FormParams {
  constructor(private readonly values: Map<string, string>, private readonly multi: Map<string, string[]> = new Map()) {}
  /** Every non-empty value of a parameter that may repeat (`resource`), in order. */
  all(name: string): string[] {
    return (this.multi.get(name) ?? []).filter((v) => v !== "");
  }
  /** The value, or undefined when absent or empty (RFC 6749 §3.1). */
  get(name: string): string | undefined {
    const v = this.values.get(name);
    return v === "" ? undefined : v;
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
}

/** Parses an application/x-www-form-urlencoded body; throws invalid_request (400) otherwise. */
export function parseForm(contentType: string | null, body: string): FormParams {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new OAuthError("invalid_request", "The request body must be application/x-www-form-urlencoded");
  }
  const { fields, invalid } = parseUrlEncoded(body);
  if (invalid.length) throw invalidText(invalid);
  const values = new Map<string, string>();
  const multi = new Map<string, string[]>();
  for (const { name: k, value: v } of fields) {
    if (FORM_MULTI_VALUED.has(k)) {
      multi.set(k, [...(multi.get(k) ?? []), v]);
      if (!values.has(k)) values.set(k, v);
      continue;
    }
    if (values.has(k)) throw new OAuthError("invalid_request", `Parameter '${fieldLabel(k)}' must not be repeated`);
    values.set(k, v);
  }
  return new FormParams(values, multi);
}

/** invalid_request naming the parameters (never their values) that are not valid text. */
export function invalidText(names: string[]): OAuthError {
  return new OAuthError("invalid_request", `Not valid text (UTF-8 without NUL): ${names.map(fieldLabel).join(", ")}`);
}

export async function readForm(request: Request): Promise<FormParams> {
  return parseForm(request.headers.get("content-type"), urlEncodedBody(await request.arrayBuffer()));
}
