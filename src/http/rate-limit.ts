// Rate limits shared by every worker and node (state in PostgreSQL): fixed windows per key.
import type { Deps } from "../deps";
import { OAuthError, RateLimitError } from "../errors";
import { hit } from "../ratelimit/store";

export interface RateLimitResult {
  allowed: boolean;
  count: number;
  limit: number;
  retryAfterSeconds: number;
}

export async function consumeRateLimit(deps: Pick<Deps, "sql">, key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
  const now = Date.now();
  const windowMs = windowSeconds * 1000;
  const start = Math.floor(now / windowMs) * windowMs;
  const count = await hit(deps.sql, key, new Date(start));
  return { allowed: count <= limit, count, limit, retryAfterSeconds: Math.ceil((start + windowMs - now) / 1000) };
}

/** Throws RateLimitError (429 with Retry-After) when the key is over its limit. */
export async function enforceRateLimit(deps: Pick<Deps, "sql">, key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
  const r = await consumeRateLimit(deps, key, limit, windowSeconds);
  if (!r.allowed) throw new RateLimitError(r.retryAfterSeconds);
  return r;
}

const TOO_MANY = "Too many sign-in requests came from your network. Wait a minute, then return to the application and try again.";

/**
 * The same limit in front of a browser page: refused with an HTML page (429, Retry-After), never a
 * redirect, so it is safe before (or regardless of) the client and redirect URI being verified.
 */
export async function enforcePageRateLimit(deps: Pick<Deps, "sql">, key: string, limit: number, windowSeconds: number): Promise<RateLimitResult> {
  try {
    return await enforceRateLimit(deps, key, limit, windowSeconds);
  } catch (err) {
    if (err instanceof RateLimitError) throw new OAuthError("temporarily_unavailable", TOO_MANY, { status: 429, html: true, page: "rate", headers: err.headers });
    throw err;
  }
}
