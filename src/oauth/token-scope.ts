// Scope values at the token endpoint (RFC 6749 §3.3): parsing, and the narrowing rule (a request
// may ask for less than was granted, never more).
import { OAuthError } from "../errors";

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Splits a scope string into distinct tokens in order; invalid characters are invalid_scope. */
export function parseScope(value: string | undefined | null): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const s of value.split(" ")) {
    if (!s) continue;
    if (!SCOPE_TOKEN.test(s)) throw new OAuthError("invalid_scope", "The scope contains invalid characters");
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

export function formatScope(scopes: Iterable<string>): string {
  return [...scopes].join(" ");
}

/** The requested scope if it is a subset of `allowed`, else invalid_scope; nothing requested = all. */
export function narrowScope(requested: string | undefined, allowed: string[], what = "granted"): string[] {
  if (requested === undefined) return [...allowed];
  const asked = parseScope(requested);
  const extra = asked.filter((s) => !allowed.includes(s));
  if (extra.length) throw new OAuthError("invalid_scope", `The requested scope exceeds what was ${what}: ${extra.join(" ")}`);
  return asked;
}

export function hasScope(scope: string | string[], name: string): boolean {
  return (Array.isArray(scope) ? scope : scope.split(" ")).includes(name);
}
