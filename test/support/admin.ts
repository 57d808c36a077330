// Admin API test helpers: a real server on loopback, admin users, and admin access tokens minted
// by the token service's issueAccessToken (what `authly admin auth login` would obtain).
import type { Deps } from "../../src/deps";
import type { UserRecord } from "../../src/accounts/model";
import { insertUser } from "../../src/accounts/store";
import { CLI_CLIENT_ID } from "../../src/clients/model";
import { ADMIN_SCOPES } from "../../src/scopes/model";
import { issueAccessToken } from "../../src/tokens/access-token";
import { startTestServer } from "./app";

export const ALL_ADMIN_SCOPES = ADMIN_SCOPES.join(" ");

export async function makeUser(deps: Deps, username: string, opts: { admin?: boolean; active?: boolean } = {}): Promise<UserRecord> {
  return insertUser(deps.sql, { username, email: `${username}@example.test`, is_admin: opts.admin ?? false, is_active: opts.active ?? true });
}

export async function tokenFor(deps: Deps, user: UserRecord, scope = ALL_ADMIN_SCOPES, extra: { aud?: string; clientId?: string } = {}): Promise<string> {
  const t = await issueAccessToken(deps, { clientId: extra.clientId ?? CLI_CLIENT_ID, sub: user.id, userId: user.id, scope, ...(extra.aud ? { aud: extra.aud } : {}) });
  return t.token;
}

export interface AdminApi {
  url: string;
  deps: Deps;
  admin: UserRecord;
  token: string;
  /** fetch with the admin token (or `token: null` for none), JSON in and out. */
  call(method: string, path: string, opts?: { body?: unknown; token?: string | null; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; body: any; headers: Headers }>;
}

/** A server on 127.0.0.1 with an admin user and a token carrying every admin scope. */
export async function startAdminApi(env: Record<string, string> = {}): Promise<AdminApi> {
  const s = await startTestServer({ env: { AUTHLY_ADMIN_RATE_LIMIT: "100000", ...env } });
  const admin = await makeUser(s.deps, `root-${crypto.randomUUID().slice(0, 8)}`, { admin: true });
  const token = await tokenFor(s.deps, admin);
  return {
    url: s.url,
    deps: s.deps,
    admin,
    token,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const tok = opts.token === undefined ? token : opts.token;
      if (tok) headers.authorization = `Bearer ${tok}`;
      let body: string | undefined = opts.raw;
      if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers["content-type"] = "application/json";
      }
      const r = await fetch(s.url + path, { method, headers, body });
      const text = await r.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {}
      return { status: r.status, body: parsed, headers: r.headers };
    },
  };
}

/** The audit rows of an action, newest first. */
export async function auditRows(deps: Deps, action: string): Promise<{ actor: string | null; action: string; target_type: string | null; target_id: string | null; outcome: string; source_ip: string | null; details: Record<string, unknown> }[]> {
  return deps.sql`SELECT * FROM audit_log WHERE action = ${action} ORDER BY id DESC` as never;
}
