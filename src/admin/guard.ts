// Who may call the admin API: a source address allowed by the network rule (loopback by default),
// within the rate limit (per token, or per source without one), with a valid access token of an
// active admin user that carries the route's admin scope. 401 / 403 / 429 otherwise.
import type { Deps } from "../deps";
import { auditDenial } from "../audit/service";
import { findUserById } from "../accounts/store";
import { ForbiddenError, OAuthError, RateLimitError, UnauthorizedError } from "../errors";
import { enforceRateLimit } from "../http/rate-limit";
import { isLoopback, requestInfo, splitTarget } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { verifyAccessTokenSignature, type AccessTokenClaims } from "../tokens/access-token";
import { anyChallenge, parseAuthorization, verifyPresentedToken, type PresentedToken } from "../oauth/dpop-resource";
import type { AdminScope } from "../scopes/model";
import type { AdminPrincipal } from "./spec";

function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Exact address, or an IPv4 CIDR block like 10.0.0.0/8. */
export function ipMatches(ip: string, rule: string): boolean {
  if (rule === ip) return true;
  const [net, bitsRaw] = rule.split("/");
  if (bitsRaw === undefined) return false;
  const a = ipv4ToInt(ip);
  const b = ipv4ToInt(net!);
  const bits = Number(bitsRaw);
  if (a === undefined || b === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) === (b & mask);
}

/**
 * The network rule: loopback and the allow-list; everyone when localhost-only is off and no list is
 * set. A request relayed by a proxy that is not in AUTHLY_TRUSTED_PROXIES (it carries
 * X-Forwarded-For, Forwarded or X-Real-IP) is neither loopback nor on the list: its real client is unknown.
 */
export function adminSourceAllowed(config: Deps["config"], ip: string, relayed = false): boolean {
  const open = !config.adminApiLocalhostOnly && config.adminApiAllowedIps.length === 0;
  if (relayed) return open;
  if (isLoopback(ip)) return true;
  if (config.adminApiAllowedIps.some((rule) => ipMatches(ip, rule))) return true;
  return open;
}

/** The token of the Authorization header (Bearer, or DPoP: RFC 9449 §7); undefined when none or malformed. */
function presentedToken(request: Request): PresentedToken | undefined {
  const p = parseAuthorization(request.headers.get("authorization"));
  return p === "malformed" ? undefined : p;
}

const WINDOW_SECONDS = 60;

/** Why a request was refused: the `reason` of its admin.denied audit row. */
type DenialReason =
  | "source_not_allowed"
  | "rate_limited"
  | "missing_token"
  | "invalid_token"
  | "wrong_audience"
  | "not_a_user"
  | "inactive_user"
  | "not_admin"
  | "missing_scope"
  | "password_change_required";

interface Denial {
  reason?: DenialReason;
  actor?: string;
  /** The `sub` of a token whose signature verified but that was refused (never the token itself). */
  tokenSubject?: string;
}

/**
 * Runs the admin checks for one request; returns the caller (null for routes without a scope).
 * `scope: "any"` accepts any admin scope and a pending password change (the /admin/me routes).
 * Every refusal (401, 403, 429) is audited as `admin.denied` with its reason, within the
 * per-source bound of auditDenial.
 */
export async function authorizeAdmin(deps: Deps, request: Request, ip: string, scope: AdminScope | "any" | null): Promise<AdminPrincipal | null> {
  const denial: Denial = {};
  try {
    return await checkAdmin(deps, request, ip, scope, denial);
  } catch (err) {
    if (err instanceof UnauthorizedError || err instanceof ForbiddenError || err instanceof RateLimitError) {
      const route = `${request.method} ${splitTarget(request.url).pathname}`.slice(0, 300);
      await auditDenial(deps, {
        action: "admin.denied",
        actor: denial.actor ?? null,
        ip,
        targetType: "route",
        targetId: route,
        details: {
          reason: denial.reason ?? (err instanceof RateLimitError ? "rate_limited" : "invalid_token"),
          status: err.status,
          ...(scope ? { scope } : {}),
          ...(denial.tokenSubject && !denial.actor ? { token_sub: denial.tokenSubject } : {}),
          ...(requestInfo(request).relayed ? { relayed_by_untrusted_proxy: true } : {}),
        },
      });
    }
    throw err;
  }
}

async function checkAdmin(deps: Deps, request: Request, ip: string, scope: AdminScope | "any" | null, denial: Denial): Promise<AdminPrincipal | null> {
  const limit = deps.config.adminRateLimitPerMinute;
  const relayed = requestInfo(request).relayed;
  if (!adminSourceAllowed(deps.config, ip, relayed)) {
    denial.reason = "rate_limited";
    await enforceRateLimit(deps, `admin:ip:${sourceKey(ip)}`, limit, WINDOW_SECONDS);
    denial.reason = "source_not_allowed";
    const proxies = deps.config.adminApiAllowedIps.length ? " and AUTHLY_ADMIN_API_ALLOWED_IPS" : "";
    throw new ForbiddenError(
      relayed
        ? `The admin API answers only from loopback (127.0.0.1, ::1)${proxies}; this request was relayed (X-Forwarded-For, Forwarded or X-Real-IP) by ${ip}, ` +
            "which is not in AUTHLY_TRUSTED_PROXIES, so its real client is unknown. Call the admin API directly, or list the proxy in AUTHLY_TRUSTED_PROXIES."
        : `The admin API answers only from loopback (127.0.0.1, ::1)${proxies}; ` +
            `this request came from ${ip}. Set AUTHLY_ADMIN_API_LOCALHOST_ONLY=false or add the address to AUTHLY_ADMIN_API_ALLOWED_IPS.`,
    );
  }
  const presented = presentedToken(request);
  const token = presented?.token;
  let claims: AccessTokenClaims | undefined;
  if (token) claims = await verifyAccessTokenSignature(deps, token).catch(() => undefined);
  denial.tokenSubject = claims?.sub;
  denial.reason = "rate_limited";
  await enforceRateLimit(deps, claims ? `admin:token:${claims.jti}` : `admin:ip:${sourceKey(ip)}`, limit, WINDOW_SECONDS);
  denial.reason = undefined;
  if (scope === null) return null;
  if (!token) {
    denial.reason = "missing_token";
    throw new UnauthorizedError("An access token is required (Authorization: Bearer ... or DPoP ...); log in with `authly admin auth login`", { "WWW-Authenticate": anyChallenge("authly-admin") });
  }
  try {
    claims = await verifyPresentedToken(deps, request, presented!);
  } catch (err) {
    if (err instanceof OAuthError) {
      denial.reason = "invalid_token";
      // A DPoP nonce request is for the client to retry with it, not for the user to log in again.
      const hint = err.code === "use_dpop_nonce" ? "" : "; log in again with `authly admin auth login`";
      throw new UnauthorizedError(`${err.description}${hint}`, err.headers);
    }
    throw err;
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(deps.config.issuer)) {
    denial.reason = "wrong_audience";
    throw new UnauthorizedError("The access token is not meant for this server");
  }
  const user = claims.sub ? await findUserById(deps.sql, claims.sub) : undefined;
  if (!user) {
    denial.reason = "not_a_user";
    throw new ForbiddenError("The admin API needs the token of an admin user");
  }
  denial.actor = user.id;
  if (!user.is_active) {
    denial.reason = "inactive_user";
    throw new UnauthorizedError("The account is deactivated");
  }
  const scopes = (claims.scope ?? "").split(" ").filter(Boolean);
  const hasScope = scope === "any" ? scopes.some((s) => s.startsWith("admin:")) : scopes.includes(scope);
  if (!user.is_admin || !hasScope) {
    denial.reason = !user.is_admin ? "not_admin" : "missing_scope";
    throw new ForbiddenError(!user.is_admin ? "The account is not an admin" : scope === "any" ? "The access token carries no admin scope" : `The access token lacks the scope ${scope}`);
  }
  // A temporary (generated or reset) password must be replaced before the account may administer.
  if (user.requires_password_change && scope !== "any") {
    denial.reason = "password_change_required";
    throw new ForbiddenError("The password must be changed first: POST /admin/me/password with current_password and new_password");
  }
  return { userId: user.id, username: user.username, scopes, jti: claims.jti, grantId: typeof claims.gid === "string" ? claims.gid : null, clientId: claims.client_id, expiresAt: claims.exp };
}
