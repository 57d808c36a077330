// Rate limits shared by every worker and node (state in PostgreSQL): fixed windows per key.
import type { Deps } from "../deps";
import { RateLimitError } from "../errors";
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
