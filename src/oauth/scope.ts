// Scope of an authorization request (RFC 6749 §3.3). Unknown or inactive scope names and scopes
// the client may not use are dropped (the server "MAY fully or partially ignore the scope",
// and the granted scope is returned with the tokens); an empty result is invalid_scope. With no
// scope requested, the default scopes the client may use apply.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** What a client may request when its registration lists no scopes: the OIDC standard scopes. */
export const STANDARD_SCOPES = ["openid", "profile", "email", "address", "phone", "offline_access"];

export interface KnownScope {
  name: string;
  is_default: boolean;
}

export type ScopeResult = { ok: true; scopes: string[] } | { ok: false; description: string };

/** The scopes a client may ever be granted: those it is registered for (or the standard ones) that are active. */
export function usableScopes(clientScopes: readonly string[], known: readonly KnownScope[]): string[] {
  const allowed = new Set(clientScopes.length ? clientScopes : STANDARD_SCOPES);
  return known.filter((s) => allowed.has(s.name)).map((s) => s.name);
}

export function resolveScope(requested: string | undefined, clientScopes: readonly string[], known: readonly KnownScope[], resourceScopes: readonly string[] = []): ScopeResult {
  // RFC 8707: the scopes of the requested resources are usable besides the client's global ones.
  const allowed = new Set([...usableScopes(clientScopes, known), ...resourceScopes]);
  const active = new Map<string, unknown>([...resourceScopes.map((n) => [n, true] as const), ...known.map((s) => [s.name, s] as const)]);
  if (requested === undefined || requested.trim() === "") {
    const defaults = known.filter((s) => s.is_default && allowed.has(s.name)).map((s) => s.name);
    if (!defaults.length) return { ok: false, description: "No scope was requested and the client has no default scope" };
    return { ok: true, scopes: defaults };
  }
  const names = requested.split(" ").filter(Boolean);
  if (names.some((n) => !SCOPE_TOKEN.test(n))) return { ok: false, description: "The scope parameter is malformed" };
  const granted = [...new Set(names)].filter((n) => active.has(n) && allowed.has(n));
  if (!granted.length) return { ok: false, description: "None of the requested scopes is available to this client" };
  return { ok: true, scopes: granted };
}
