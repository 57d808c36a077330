// Standard claims (OIDC Core §5.1), the claims each scope stands for (§5.4) and the `claims`
// request parameter (§5.5): which claims of a user go to UserInfo and which into the ID token.
import type { UserRecord } from "../accounts/model";
import { STANDARD_SCOPES } from "../oauth/scope";
import { parseJsonSafely } from "../lib/text";

export const SCOPE_CLAIMS: Record<string, readonly string[]> = {
  profile: ["name", "family_name", "given_name", "middle_name", "nickname", "preferred_username", "profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"],
  email: ["email", "email_verified"],
  address: ["address"],
  phone: ["phone_number", "phone_number_verified"],
};

/** Every user claim this server can release (discovery's claims_supported adds the protocol claims). */
export const USER_CLAIMS: readonly string[] = ["sub", ...Object.values(SCOPE_CLAIMS).flat()];

/** One entry of the `claims` parameter: null, or { essential?, value?, values? } (§5.5.1). */
export interface ClaimSpec {
  essential?: boolean;
  value?: unknown;
  values?: unknown[];
}

export interface ClaimsRequest {
  userinfo?: Record<string, ClaimSpec | null>;
  id_token?: Record<string, ClaimSpec | null>;
}

/** Bounds of the `claims` parameter, checked before it is parsed: the §5.5 shape is
 *  {member: {claim: {value, values: [...]}}}, four levels; one more leaves room for a structured value. */
export const CLAIMS_PARAMETER_LIMITS = { maxBytes: 8 * 1024, maxDepth: 5 };

/** Parses the `claims` parameter; returns an error description when it is not valid JSON of the §5.5 shape. */
export function parseClaimsParameter(raw: string): { ok: true; claims: ClaimsRequest } | { ok: false; description: string } {
  const parsed = parseJsonSafely(raw, CLAIMS_PARAMETER_LIMITS);
  if (!parsed.ok) {
    const { maxBytes, maxDepth } = CLAIMS_PARAMETER_LIMITS;
    const why = { invalid: "is not valid JSON", too_large: `is larger than ${maxBytes} bytes`, too_deep: `nests deeper than ${maxDepth} levels`, invalid_text: "holds text that is not valid (NUL or a lone surrogate)" };
    return { ok: false, description: `The claims parameter ${why[parsed.problem]}` };
  }
  const value = parsed.value;
  if (!isObject(value)) return { ok: false, description: "The claims parameter must be a JSON object" };
  const out: ClaimsRequest = {};
  for (const member of ["userinfo", "id_token"] as const) {
    const m = value[member];
    if (m === undefined || m === null) continue;
    if (!isObject(m)) return { ok: false, description: `claims.${member} must be a JSON object` };
    const specs: Record<string, ClaimSpec | null> = {};
    for (const [name, spec] of Object.entries(m)) {
      if (spec !== null && !isObject(spec)) return { ok: false, description: `claims.${member}.${name} must be null or an object` };
      specs[name] = spec === null ? null : (spec as ClaimSpec);
    }
    out[member] = specs;
  }
  return { ok: true, claims: out };
}

/** Names of the claims the scopes stand for. */
export function claimsOfScopes(scopes: readonly string[]): string[] {
  return scopes.flatMap((s) => SCOPE_CLAIMS[s] ?? []);
}

/**
 * The user claims a client may ever receive: those of the scopes it is registered for (and that
 * are active), per the §5.4 mapping, plus `sub`. A `claims` request (§5.5) is limited to these.
 */
export function claimsAllowedForScopes(scopes: readonly string[]): Set<string> {
  return new Set(["sub", ...claimsOfScopes(scopes)]);
}

/** The user claims a registered client may receive now (release-time check, also for requests stored
 *  before the client's scopes changed): a client registered with no scopes uses the standard ones. */
export function claimsAllowedForClient(client: { scopes: readonly string[] } | undefined): Set<string> {
  if (!client) return new Set(["sub"]);
  return claimsAllowedForScopes(client.scopes.length ? client.scopes : STANDARD_SCOPES);
}

function isUserClaim(name: string): boolean {
  return (USER_CLAIMS as string[]).includes(name);
}

/**
 * The claims request without the user claims the client may not receive (dropped like a scope it
 * is not registered for, RFC 6749 §3.3). Protocol claims (acr, auth_time) are kept; null when
 * nothing is left.
 */
export function limitClaimsRequest(request: ClaimsRequest | null, allowed: ReadonlySet<string>): ClaimsRequest | null {
  if (!request) return null;
  const out: ClaimsRequest = {};
  for (const member of ["userinfo", "id_token"] as const) {
    const specs = request[member];
    if (!specs) continue;
    const kept = Object.fromEntries(Object.entries(specs).filter(([name]) => !isUserClaim(name) || allowed.has(name)));
    if (Object.keys(kept).length) out[member] = kept;
  }
  return out.userinfo || out.id_token ? out : null;
}

/**
 * User claims asked for one by one (§5.5) beyond those the scopes stand for: what the consent page
 * shows besides the scopes, and what consent remembers with them. Sorted, without `sub`.
 */
export function individuallyRequestedClaims(request: ClaimsRequest | null | undefined, scopes: readonly string[]): string[] {
  const covered = new Set(claimsOfScopes(scopes));
  const names = new Set([...Object.keys(request?.userinfo ?? {}), ...Object.keys(request?.id_token ?? {})]);
  return [...names].filter((n) => n !== "sub" && isUserClaim(n) && !covered.has(n)).sort();
}

/** The values of the named claims a user has (absent and null values are left out, §5.3.2). */
export function userClaims(user: UserRecord, names: Iterable<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const v = claimValue(user, name);
    if (v !== undefined && v !== null && v !== "") out[name] = v;
  }
  return out;
}

function claimValue(user: UserRecord, name: string): unknown {
  switch (name) {
    case "sub":
      return user.id;
    case "updated_at":
      return Math.floor(new Date(user.updated_at).getTime() / 1000);
    case "preferred_username":
      return user.preferred_username ?? user.username;
    case "address": {
      const a = user.address;
      if (!a || typeof a !== "object" || !Object.keys(a).length) return undefined;
      return a;
    }
    case "email_verified":
      return user.email ? user.email_verified : undefined;
    case "phone_number_verified":
      return user.phone_number ? user.phone_number_verified : undefined;
    default:
      if (!(USER_CLAIMS as string[]).includes(name) || name === "sub") return undefined;
      return (user as unknown as Record<string, unknown>)[name];
  }
}

/** UserInfo claims: those of the granted scopes plus those asked for in claims.userinfo (§5.4, §5.5),
 *  the latter only within `allowed` (the claims the client may receive). */
export function userinfoClaims(user: UserRecord, scopes: readonly string[], request: ClaimsRequest | null | undefined, allowed: ReadonlySet<string>): Record<string, unknown> {
  const names = new Set([...claimsOfScopes(scopes), ...Object.keys(request?.userinfo ?? {}).filter((n) => allowed.has(n))]);
  names.delete("sub");
  return { sub: user.id, ...userClaims(user, names) };
}

/** The names of the ID token's user claims (userClaims gives their values): those asked for in
 *  claims.id_token (within `allowed`), or — when no access token is issued — those of the granted
 *  scopes (§5.4). None: the ID token needs no more of the user than its id. Protocol claims
 *  (auth_time, acr, ...) are not handled here. */
export function idTokenUserClaimNames(scopes: readonly string[], request: ClaimsRequest | null | undefined, accessTokenIssued: boolean, allowed: ReadonlySet<string>): Set<string> {
  const names = new Set(Object.keys(request?.id_token ?? {}).filter((n) => allowed.has(n)));
  if (!accessTokenIssued) for (const n of claimsOfScopes(scopes)) names.add(n);
  names.delete("sub");
  return names;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
