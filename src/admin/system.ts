// Admin API: health, status (version, uptime, database and pool, counts, admin API settings) and
// signing keys (list, rotate). Scopes admin:system:read / admin:system:write.
import { Type as t } from "@sinclair/typebox";
import type { Deps } from "../deps";
import { auditAdmin } from "../audit/service";
import { describePool } from "../db/sql";
import { pingDatabase } from "../health/service";
import { assertSchema } from "../lib/validate";
import { VERSION } from "../version";
import type { KeyAlg } from "../keys/store";
import { ConflictError, NotFoundError } from "../errors";
import { connectionCounts, statusCounts } from "./store";
import { mailStatus } from "../mail/service";
import { signupStatus } from "../account/signup";
import type { AdminRouteSpec } from "./spec";

const Pool = t.Object({ min: t.Integer(), max: t.Integer(), connect_timeout_seconds: t.Number(), idle_timeout_seconds: t.Number() });
const Health = t.Object({ status: t.Union([t.Literal("healthy"), t.Literal("unhealthy")]), database: t.Union([t.Literal("connected"), t.Literal("unreachable")]) });
const Status = t.Object({
  status: t.Union([t.Literal("healthy"), t.Literal("degraded")]),
  version: t.String(),
  uptime_seconds: t.Integer(),
  mode: t.Object({ name: t.String(), pool: Pool }),
  database: t.Object({
    status: t.Union([t.Literal("connected"), t.Literal("unreachable")]),
    latency_ms: t.Number(),
    pool: t.Intersect([Pool], { description: "This process's pool settings (postgres.js opens connections lazily up to max)" }),
    connections: t.Union([t.Object({ open: t.Integer(), active: t.Integer() }), t.Null()], { description: "Server connections named 'authly' (all workers and nodes), from pg_stat_activity" }),
  }),
  counts: t.Object({
    clients: t.Integer(), active_clients: t.Integer(), scopes: t.Integer(), active_scopes: t.Integer(),
    users: t.Integer(), active_users: t.Integer(), active_tokens: t.Integer(),
  }),
  admin_api: t.Object({ enabled: t.Boolean(), url: t.String(), localhost_only: t.Boolean(), allowed_ips: t.Array(t.String()), rate_limit_per_minute: t.Integer() }),
  mail: t.Object({
    enabled: t.Boolean({ description: "AUTHLY_SMTP_URL is set; without it password reset and email verification are not offered" }),
    from: t.Union([t.String(), t.Null()]),
    outbox: t.Object({ pending: t.Integer(), failed: t.Integer(), sent: t.Integer() }),
  }),
  signup: t.Object({
    mode: t.Union([t.Literal("off"), t.Literal("open"), t.Literal("invite")], { description: "AUTHLY_SIGNUP" }),
    require_verified_email: t.Boolean({ description: "AUTHLY_SIGNUP_REQUIRE_VERIFIED_EMAIL" }),
    open: t.Boolean({ description: "The login page offers \"Create an account\"" }),
    invites: t.Boolean({ description: "Invite links work (POST /admin/invites)" }),
    reason: t.Union([t.String(), t.Null()], { description: "Why open sign-up is not offered" }),
  }),
  timestamp: t.String({ format: "date-time" }),
});
const Alg = t.Union([t.Literal("RS256"), t.Literal("ES256"), t.Literal("EdDSA")]);
const Key = t.Object({
  kid: t.String(),
  alg: Alg,
  state: t.Union(["next", "active", "retired", "revoked"].map((s) => t.Literal(s))),
  created_at: t.String({ format: "date-time" }),
  activated_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
  retired_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
  publish_until: t.Union([t.String({ format: "date-time" }), t.Null()]),
});
const KeyList = t.Object({ keys: t.Array(Key) });
const Rotate = t.Object({ alg: t.Optional(Alg) }, { additionalProperties: false });
const Rotated = t.Object({ rotated: t.Array(t.Object({ alg: Alg, activated: t.String(), next: t.String(), retired: t.Array(t.String()) })) });

const Revoke = t.Object({}, { additionalProperties: false, description: "No members: the kid is in the path" });
const Revoked = t.Object({
  kid: t.String(),
  alg: Alg,
  previous_state: t.String({ description: "next, active or retired" }),
  activated: t.Union([t.String(), t.Null()], { description: "The key that became active in its place (an active key was revoked)" }),
  next: t.Union([t.String(), t.Null()], { description: "The fresh next key made in its place" }),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function systemAdminRoutes(deps: Deps): AdminRouteSpec[] {
  return [
    {
      method: "GET", path: "/admin/health", scope: null, tag: "system", summary: "Admin API health (no token needed)",
      response: Health,
      handler: async () => {
        const db = await pingDatabase(deps);
        return { status: db.ok ? "healthy" : "unhealthy", database: db.ok ? "connected" : "unreachable" };
      },
    },
    {
      method: "GET", path: "/admin/status", scope: "admin:system:read", tag: "system", summary: "System status",
      response: Status,
      handler: async () => {
        const db = await pingDatabase(deps);
        const c = deps.config;
        return {
          status: db.ok ? "healthy" : "degraded",
          version: VERSION,
          uptime_seconds: Math.floor((Date.now() - deps.startedAt) / 1000),
          mode: { name: c.mode.mode, pool: describePool(c.mode.pool) },
          database: {
            status: db.ok ? "connected" : "unreachable",
            latency_ms: Math.round(db.ms * 100) / 100,
            pool: describePool(c.mode.pool),
            connections: db.ok ? await connectionCounts(deps.sql).catch(() => null) : null,
          },
          counts: await statusCounts(deps.sql),
          admin_api: { enabled: c.adminApiEnabled, url: c.adminApiUrl, localhost_only: c.adminApiLocalhostOnly, allowed_ips: c.adminApiAllowedIps, rate_limit_per_minute: c.adminRateLimitPerMinute },
          mail: await mailStatus(deps),
          signup: signupStatus(deps),
          timestamp: new Date().toISOString(),
        };
      },
    },
    {
      method: "GET", path: "/admin/keys", scope: "admin:system:read", tag: "system", summary: "List signing keys (public facts only)",
      response: KeyList,
      handler: async () => ({
        keys: (await deps.keys.listKeys()).map((k) => ({ kid: k.kid, alg: k.alg, state: k.state, created_at: k.created_at.toISOString(), activated_at: iso(k.activated_at), retired_at: iso(k.retired_at), publish_until: iso(k.publish_until) })),
      }),
    },
    {
      method: "POST", path: "/admin/keys/rotate", scope: "admin:system:write", tag: "system", summary: "Rotate signing keys",
      description: "The `next` key (already published) becomes active; the active key is retired but stays published until its tokens expire. Without `alg`, every algorithm in use rotates.",
      body: Rotate, response: Rotated, errors: [400],
      handler: async (r) => {
        const input = assertSchema<{ alg?: KeyAlg }>(Rotate, r.body);
        // Default: every algorithm in use (an active key), which covers the configured ones.
        const inUse = (await deps.keys.listKeys()).filter((k) => k.state === "active").map((k) => k.alg);
        const algs: KeyAlg[] = input.alg ? [input.alg] : [...new Set<KeyAlg>([deps.config.accessTokenAlg, deps.config.idTokenAlg, ...inUse])].sort();
        const rotated: { alg: KeyAlg; activated: string; next: string; retired: string[] }[] = [];
        for (const alg of algs) rotated.push({ alg, ...(await deps.keys.rotate(alg)) });
        await deps.sql.begin(async (tx) => {
          for (const k of rotated) await auditAdmin(deps, tx, r.actor, "key.rotate", { type: "signing_key", id: k.activated }, { alg: k.alg, retired: k.retired, next: k.next });
        });
        return { rotated };
      },
    },
    {
      method: "POST", path: "/admin/keys/:kid/revoke", scope: "admin:system:write", tag: "system", summary: "Revoke a signing key (compromise)",
      description:
        "The key leaves the JWKS and every token it signed is refused at once on every node (introspection inactive, UserInfo and admin API 401, id_token_hint ignored). " +
        "Revoking the active key first activates its algorithm's next key (already published), so signing goes on; a fresh next key is made. Cannot be undone.",
      params: { kid: "The key id (kid), as `GET /admin/keys` lists it" }, body: Revoke, response: Revoked, errors: [400, 404, 409],
      handler: async (r) => {
        assertSchema(Revoke, r.body ?? {});
        const kid = r.params.kid!;
        const res = await deps.keys.revoke(kid);
        if (!res) throw new NotFoundError(`No signing key with kid ${kid}`);
        if (res.already) throw new ConflictError(`The signing key ${kid} is already revoked`);
        await deps.sql.begin(async (tx) => {
          await auditAdmin(deps, tx, r.actor, "key.revoke", { type: "signing_key", id: kid }, { alg: res.alg, previous_state: res.previousState, activated: res.activated ?? null, next: res.next ?? null });
        });
        return { kid, alg: res.alg, previous_state: res.previousState, activated: res.activated ?? null, next: res.next ?? null };
      },
    },
  ];
}
