// Who may call the admin API: a source address allowed by the network rule (loopback by default),
// within the rate limit (per token, or per source without one), with a valid access token of an
// active admin user that carries the route's admin scope. 401 / 403 / 429 otherwise.
import type { Deps } from "../deps";
import { audit } from "../audit/service";
import { findUserById } from "../accounts/store";
import { ForbiddenError, OAuthError, UnauthorizedError } from "../errors";
import { enforceRateLimit } from "../http/rate-limit";
import { isLoopback } from "../http/request-context";
import { sourceKey } from "../lib/source-key";
import { verifyAccessToken, verifyAccessTokenSignature, type AccessTokenClaims } from "../tokens/access-token";
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

/** The network rule: loopback and the allow-list; everyone when localhost-only is off and no list is set. */
export function adminSourceAllowed(config: Deps["config"], ip: string): boolean {
  if (isLoopback(ip)) return true;
  if (config.adminApiAllowedIps.some((rule) => ipMatches(ip, rule))) return true;
  return !config.adminApiLocalhostOnly && config.adminApiAllowedIps.length === 0;
}

function bearerToken(request: Request): string | undefined {
  const h = request.headers.get("authorization");
  const m = h ? /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(h) : null;
  return m?.[1];
}

const WINDOW_SECONDS = 60;

/**
 * Runs the admin checks for one request; returns the caller (null for routes without a scope).
 * `scope: "any"` accepts any admin scope and a pending password change (the /admin/me routes).
 */
export async function authorizeAdmin(deps: Deps, request: Request, ip: string, scope: AdminScope | "any" | null): Promise<AdminPrincipal | null> {
  const limit = deps.config.adminRateLimitPerMinute;
  if (!adminSourceAllowed(deps.config, ip)) {
    await enforceRateLimit(deps, `admin:ip:${sourceKey(ip)}`, limit, WINDOW_SECONDS);
    throw new ForbiddenError(
      `The admin API answers only from loopback (127.0.0.1, ::1)${deps.config.adminApiAllowedIps.length ? " and AUTHLY_ADMIN_API_ALLOWED_IPS" : ""}; ` +
        `this request came from ${ip}. Set AUTHLY_ADMIN_API_LOCALHOST_ONLY=false or add the address to AUTHLY_ADMIN_API_ALLOWED_IPS.`,
    );
  }
  const token = bearerToken(request);
  let claims: AccessTokenClaims | undefined;
  if (token) claims = await verifyAccessTokenSignature(deps, token).catch(() => undefined);
  await enforceRateLimit(deps, claims ? `admin:token:${claims.jti}` : `admin:ip:${sourceKey(ip)}`, limit, WINDOW_SECONDS);
  if (scope === null) return null;
  if (!token) throw new UnauthorizedError("An access token is required (Authorization: Bearer ...); log in with `authly admin auth login`");
  try {
    claims = await verifyAccessToken(deps, token);
  } catch (err) {
    if (err instanceof OAuthError) throw new UnauthorizedError(`${err.description}; log in again with \`authly admin auth login\``);
    throw err;
  }
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(deps.config.issuer)) throw new UnauthorizedError("The access token is not meant for this server");
  const user = claims.sub ? await findUserById(deps.sql, claims.sub) : undefined;
  if (!user) throw new ForbiddenError("The admin API needs the token of an admin user");
  if (!user.is_active) throw new UnauthorizedError("The account is deactivated");
  const scopes = (claims.scope ?? "").split(" ").filter(Boolean);
  const hasScope = scope === "any" ? scopes.some((s) => s.startsWith("admin:")) : scopes.includes(scope);
  if (!user.is_admin || !hasScope) {
    const reason = !user.is_admin ? "The account is not an admin" : scope === "any" ? "The access token carries no admin scope" : `The access token lacks the scope ${scope}`;
    await audit(deps, { action: "admin.denied", actor: user.id, outcome: "denied", ip, targetType: "route", targetId: `${request.method} ${new URL(request.url).pathname}`, details: { reason: !user.is_admin ? "not_admin" : "missing_scope", scope } });
    throw new ForbiddenError(reason);
  }
  // A temporary (generated or reset) password must be replaced before the account may administer.
  if (user.requires_password_change && scope !== "any") {
    throw new ForbiddenError("The password must be changed first: POST /admin/me/password with current_password and new_password");
  }
  return { userId: user.id, username: user.username, scopes, jti: claims.jti, clientId: claims.client_id, expiresAt: claims.exp };
}
