// Resource indicators (RFC 8707): which API resources a request names, checked at the
// authorization and token endpoints alike, and what they decide about the access token: its `aud`
// (exactly the selected resources), its scope (the grant's scopes that are global or belong to a
// selected resource), its lifetime and its signing algorithm.
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import type { ClientRecord } from "../clients/model";
import { OAuthError } from "../errors";
import { ALGORITHMS, MAX_TOKEN_LIFETIME_SECONDS } from "../keys/service";

type KeyAlg = (typeof ALGORITHMS)[number];
import { RESOURCE_LIMITS, resourceIdentifierProblem, type ResourceRecord } from "../resources/model";
import { findResources } from "../resources/service";
import { activeScopeNames } from "../scopes/store";
import { accessTokenTtl } from "../tokens/service";
import { fapiSigningAlg, isFapi2 } from "./fapi2";

export type TargetError = (description: string) => OAuthError;
const invalidTarget: TargetError = (description) => new OAuthError("invalid_target", description);

/**
 * The resources a request selects, each registered, active and allowed to the client (listed in
 * its `resources`, or open to any client). Nothing requested: `within` when given (a token request
 * of a grant: every resource it covers), else the client's default resource, else none. `within`
 * also bounds what may be requested (a token request narrows, never widens). Every failure is
 * invalid_target (RFC 8707 §2), built by `fail` (the authorization endpoint redirects it).
 */
export async function selectResources(
  deps: Deps,
  sql: Tx,
  client: Pick<ClientRecord, "resources" | "default_resource">,
  requested: string[],
  opts: { within?: string[]; fail?: TargetError } = {},
): Promise<ResourceRecord[]> {
  const fail = opts.fail ?? invalidTarget;
  const asked = [...new Set(requested)];
  if (asked.length > RESOURCE_LIMITS.perRequestMax) throw fail(`At most ${RESOURCE_LIMITS.perRequestMax} resources may be requested at once`);
  for (const r of asked) {
    const problem = resourceIdentifierProblem(r);
    if (problem) throw fail(`The resource ${problem}`);
  }
  if (opts.within) {
    const outside = asked.filter((r) => !opts.within!.includes(r));
    if (outside.length) throw fail(`The resource was not granted: ${outside.join(" ")}`);
  }
  const chosen = asked.length ? asked : opts.within ?? (client.default_resource ? [client.default_resource] : []);
  if (!chosen.length) return [];
  const found = new Map((await findResources(sql, chosen)).map((r) => [r.identifier, r]));
  return chosen.map((id) => {
    const r = found.get(id);
    if (!r || !r.is_active) throw fail(`The resource is unknown: ${id}`);
    if (!r.allow_any_client && !(client.resources ?? []).includes(id)) throw fail(`This client may not ask tokens for the resource: ${id}`);
    return r;
  });
}

/** The scope names of the selected resources. */
export function resourceScopes(resources: ResourceRecord[]): string[] {
  return [...new Set(resources.flatMap((r) => r.scopes.map((s) => s.name)))];
}

/**
 * The scopes of an access token for `resources` out of the granted ones: those that are global
 * (registered scopes, e.g. openid, offline_access, api:read) and those of a selected resource. A
 * scope of another resource of the same grant is left out. No resources: the granted scopes.
 */
export async function scopesForResources(sql: Tx, granted: string[], resources: ResourceRecord[]): Promise<string[]> {
  if (!resources.length) return granted;
  const own = new Set(resourceScopes(resources));
  const global = new Set(await activeScopeNames(sql, granted));
  return granted.filter((s) => global.has(s) || own.has(s));
}

/** What the access token for these resources carries besides its scope. */
export interface AudienceSettings {
  /** The aud claim: the identifiers (a string for one), or undefined for the default (the issuer). */
  aud?: string | string[];
  ttlSeconds: number;
  alg?: KeyAlg;
}

/**
 * aud = exactly the selected resources. Lifetime: the shortest set by a selected resource, else the
 * client's or the server's. Algorithm: the resources' one when they all set the same, else the
 * configured access-token algorithm (AUTHLY_ACCESS_TOKEN_ALG).
 */
export function audienceSettings(deps: Deps, client: Pick<ClientRecord, "access_token_ttl" | "fapi_profile" | "is_first_party">, resources: ResourceRecord[]): AudienceSettings {
  const settings = resourceAudience(deps, client, resources);
  // FAPI 2.0 §5.4.1: a FAPI client's access tokens are signed with PS256, ES256 or EdDSA.
  if (isFapi2(deps, client)) settings.alg = fapiSigningAlg(settings.alg ?? deps.config.accessTokenAlg);
  return settings;
}

function resourceAudience(deps: Deps, client: Pick<ClientRecord, "access_token_ttl">, resources: ResourceRecord[]): AudienceSettings {
  const base = accessTokenTtl(deps, client);
  if (!resources.length) return { ttlSeconds: base };
  const ttls = resources.map((r) => r.access_token_ttl).filter((t): t is number => t !== null && t > 0);
  const ttl = Math.min(ttls.length ? Math.min(...ttls) : base, MAX_TOKEN_LIFETIME_SECONDS);
  const algs = new Set(resources.map((r) => r.access_token_alg));
  const alg = algs.size === 1 ? [...algs][0] ?? undefined : undefined;
  const ids = resources.map((r) => r.identifier);
  return { aud: ids.length === 1 ? ids[0]! : ids, ttlSeconds: ttl, alg: alg ?? undefined };
}
