// Form bodies of the back-channel endpoints (RFC 6749 §3.2, Appendix B): parsed from the raw text
// so that a repeated parameter is invalid_request, an empty one counts as omitted (§3.1) and an
// unknown one is ignored.
import { OAuthError } from "../errors";

export class FormParams {
  constructor(private readonly values: Map<string, string>) {}
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
  const values = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(body)) {
    if (values.has(k)) throw new OAuthError("invalid_request", `Parameter '${k}' must not be repeated`);
    values.set(k, v);
  }
  return new FormParams(values);
}

export async function readForm(request: Request): Promise<FormParams> {
  return parseForm(request.headers.get("content-type"), await request.text());
}
