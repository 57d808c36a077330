// `authly admin user deactivate|delete|reset-password|sessions|revoke-sessions|unlock|consents|revoke-consent`:
// what ends or resets a user's access (the admin API's /admin/users/:id/... routes).
import { CliError, ExitCode } from "../../errors";
import { formatTime, printJson, printTable, success } from "../output";
import { createContext } from "./context";
import { confirmAction, isInteractive } from "./prompt";
import { defineAdminCommand, destructiveArgs, helpText, outputArgs } from "./shared";
import { askNewPassword, notFound, resolveUser, userArg, type User } from "./user-common";

export const deactivate = defineAdminCommand({
  meta: { name: "deactivate", description: "Deactivate a user account (ends its sessions and tokens)." },
  args: { ...userArg, ...destructiveArgs, ...outputArgs },
  help: helpText({
    details: "Reversible with `authly admin user update USER --activate`. Asks for confirmation on a terminal.",
    examples: ["$ authly admin user deactivate alice", "$ authly admin user deactivate alice --confirm --output json"],
    json: "The updated user object (dry run: { id, username, dry_run: true }).",
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const json = ctx.format(args.output) === "json";
    if (args["dry-run"]) {
      if (json) return printJson({ id: user.id, username: user.username, dry_run: true });
      console.log(`Dry run: would deactivate user '${user.username}' (${user.id}). Nothing was changed.`);
      return;
    }
    await confirmAction(`Deactivate user '${user.username}'?`, args);
    const updated = await ctx.api.post<User>(`/admin/users/${user.id}/deactivate`, { notFound: notFound(args.user) });
    if (json) return printJson(updated);
    success(`User '${updated.username ?? user.username}' deactivated`);
  },
});

export const resetPassword = defineAdminCommand({
  meta: { name: "reset-password", description: "Set or generate a new password for a user." },
  args: {
    ...userArg,
    password: { type: "string", valueHint: "TEXT", description: "The new password (not recommended: prompted without echo on a terminal)" },
    generate: { type: "boolean", description: "Let the server generate a password (shown once)" },
    ...outputArgs,
  },
  help: helpText({
    details: "Without --password: prompts on a terminal (empty answer: generate), generates one otherwise.",
    examples: ["$ authly admin user reset-password alice", "$ authly admin user reset-password alice --generate --output json | jq -r .password"],
    json: '{ "id", "password"? }  (password only when generated)',
  }),
  async run({ args }) {
    let password = args.password;
    if (password === undefined && !args.generate && isInteractive()) password = await askNewPassword();
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const res = await ctx.api.post<{ id: string; password?: string }>(`/admin/users/${user.id}/reset-password`, { json: password ? { password } : {}, notFound: notFound(args.user) });
    if (ctx.format(args.output) === "json") return printJson(res);
    success(`Password of '${user.username}' reset`);
    if (res.password) {
      console.log(`New password: ${res.password}`);
      console.log("\n⚠️  Save the password securely - it cannot be retrieved again!");
    }
  },
});

export const del = defineAdminCommand({
  meta: { name: "delete", description: "Delete a user account (deactivate; --hard removes it)." },
  args: {
    ...userArg,
    hard: { type: "boolean", description: "Remove the account and everything that belongs to it, for good" },
    ...destructiveArgs,
    ...outputArgs,
  },
  help: helpText({
    details: "By default the account is deactivated (its sessions end, its tokens are revoked).\nThe last active admin cannot be deleted (exit code 5). Asks for confirmation on a terminal.",
    examples: ["$ authly admin user delete alice --dry-run", "$ authly admin user delete alice --hard --confirm"],
    json: '{ "id", "deleted": "soft" | "hard" }  (dry run: { "id", "username", "dry_run": true, "would_delete": "soft" | "hard" })',
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const kind = args.hard ? "hard" : "soft";
    const json = ctx.format(args.output) === "json";
    if (args["dry-run"]) {
      if (json) return printJson({ id: user.id, username: user.username, dry_run: true, would_delete: kind });
      console.log(`Dry run: would ${args.hard ? "permanently delete" : "deactivate"} user '${user.username}' (${user.id}). Nothing was changed.`);
      return;
    }
    await confirmAction(`${args.hard ? "Permanently delete" : "Deactivate"} user '${user.username}' (${user.id})?`, args);
    const res = await ctx.api.delete<{ id: string; deleted: string }>(`/admin/users/${user.id}`, { query: { hard: args.hard ? true : undefined }, notFound: notFound(args.user) });
    if (json) return printJson(res);
    success(res.deleted === "hard" ? `User '${user.username}' deleted permanently` : `User '${user.username}' deactivated (soft delete; --hard removes it)`);
  },
});

interface Sessions {
  sessions: { id: string; auth_time: string; amr: string[]; user_agent: string | null; source_ip: string | null; created_at: string; last_seen_at: string; expires_at: string }[];
  grants: { id: string; client_id: string; grant_type: string; scope: string; created_at: string; expires_at: string; active_access_tokens: number; active_refresh_tokens: number }[];
}

export const sessions = defineAdminCommand({
  meta: { name: "sessions", description: "List a user's browser sessions and grants (tokens)." },
  args: { ...userArg, ...outputArgs },
  help: helpText({
    examples: ["$ authly admin user sessions alice", "$ authly admin user sessions alice --output json | jq '.grants | length'"],
    json: '{ "sessions": [ { id, auth_time, amr, user_agent, source_ip, created_at, last_seen_at, expires_at } ], "grants": [ { id, client_id, grant_type, scope, created_at, expires_at, active_access_tokens, active_refresh_tokens } ] }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const res = await ctx.api.get<Sessions>(`/admin/users/${user.id}/sessions`, { notFound: notFound(args.user) });
    if (ctx.format(args.output) === "json") return printJson(res);
    console.log(`Sessions of '${user.username}':`);
    if (res.sessions.length) printTable(["Session", "Signed in", "Last seen", "Expires", "Source IP", "User agent"], res.sessions.map((x) => [x.id, formatTime(x.auth_time), formatTime(x.last_seen_at), formatTime(x.expires_at), x.source_ip ?? "-", (x.user_agent ?? "-").slice(0, 40)]));
    else console.log("  none");
    console.log(`\nGrants of '${user.username}':`);
    if (res.grants.length) printTable(["Grant", "Client", "Grant type", "Scope", "Access tokens", "Refresh tokens", "Expires"], res.grants.map((g) => [g.id, g.client_id, g.grant_type, g.scope, g.active_access_tokens, g.active_refresh_tokens, formatTime(g.expires_at)]));
    else console.log("  none");
  },
});

export const revokeSessions = defineAdminCommand({
  meta: { name: "revoke-sessions", description: "End every session of a user and revoke all their tokens." },
  args: { ...userArg, ...destructiveArgs, ...outputArgs },
  help: helpText({
    details: "For a compromised account: the user must sign in again everywhere. Asks for confirmation on a terminal.",
    examples: ["$ authly admin user revoke-sessions alice", "$ authly admin user revoke-sessions alice --confirm --output json"],
    json: '{ "revoked_sessions", "revoked_grants", "revoked_access_tokens" }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const json = ctx.format(args.output) === "json";
    if (args["dry-run"]) {
      const res = await ctx.api.get<Sessions>(`/admin/users/${user.id}/sessions`, { notFound: notFound(args.user) });
      if (json) return printJson({ id: user.id, dry_run: true, sessions: res.sessions.length, grants: res.grants.length });
      console.log(`Dry run: would end ${res.sessions.length} session(s) and revoke ${res.grants.length} grant(s) of '${user.username}'. Nothing was changed.`);
      return;
    }
    await confirmAction(`End every session and revoke every token of '${user.username}'?`, args);
    const res = await ctx.api.delete<{ revoked_sessions: number; revoked_grants: number; revoked_access_tokens: number }>(`/admin/users/${user.id}/sessions`, { notFound: notFound(args.user) });
    if (json) return printJson(res);
    success(`Revoked for '${user.username}': ${res.revoked_sessions} session(s), ${res.revoked_grants} grant(s), ${res.revoked_access_tokens} access token(s)`);
  },
});

export const unlock = defineAdminCommand({
  meta: { name: "unlock", description: "Clear a user's login throttling (locked sources and slow-down)." },
  args: { ...userArg, ...outputArgs },
  help: helpText({
    details: "Deletes the failed-login counters of the account from every source, so that it can sign in again at once from anywhere.\nA source locked for failing on many accounts stays locked. `authly admin user show USER` shows the lock (Locked: ...).\nSucceeds (exit 0) also when nothing was locked.",
    examples: ["$ authly admin user unlock alice", "$ authly admin user unlock alice --output json | jq .cleared"],
    json: '{ "id", "username", "cleared": N, "login_lock": null }  (cleared: how many throttle records were deleted)',
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const res = await ctx.api.post<{ id: string; username: string; cleared: number; login_lock: null }>(`/admin/users/${user.id}/unlock`, { notFound: notFound(args.user) });
    if (ctx.format(args.output) === "json") return printJson(res);
    success(res.cleared ? `Login throttling of '${user.username}' cleared (${res.cleared} record(s))` : `'${user.username}' was not locked; nothing to clear`);
  },
});

interface Consent {
  client_id: string;
  client_name: string | null;
  scopes: string[];
  claims?: string[];
  created_at: string;
  updated_at: string;
}

export const consents = defineAdminCommand({
  meta: { name: "consents", description: "List the applications a user has consented to." },
  args: { ...userArg, ...outputArgs },
  help: helpText({
    examples: ["$ authly admin user consents alice", "$ authly admin user consents alice --output json | jq -r '.consents[].client_id'"],
    json: '{ "consents": [ { client_id, client_name, scopes, claims, created_at, updated_at } ], "total": N }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const res = await ctx.api.get<{ consents: Consent[]; total: number }>(`/admin/users/${user.id}/consents`, { notFound: notFound(args.user) });
    if (ctx.format(args.output) === "json") return printJson(res);
    if (res.consents.length) {
      printTable(["Client ID", "Application", "Scopes", "Claims", "Granted", "Updated"], res.consents.map((c) => [c.client_id, c.client_name ?? "-", c.scopes.join(" "), c.claims?.length ? c.claims.join(" ") : "-", formatTime(c.created_at), formatTime(c.updated_at)]));
    } else console.log(`'${user.username}' has consented to no application.`);
    console.log(`\nTotal: ${res.total} consent${res.total === 1 ? "" : "s"}`);
  },
});

export const revokeConsent = defineAdminCommand({
  meta: { name: "revoke-consent", description: "Revoke a user's consent to one application (and its tokens)." },
  args: {
    ...userArg,
    client_id: { type: "positional", required: true, description: "The application's client ID", valueHint: "CLIENT_ID" },
    ...destructiveArgs,
    ...outputArgs,
  },
  help: helpText({
    details: "The user is asked for consent again next time; the application's grants for the user are revoked.\nAsks for confirmation on a terminal.",
    examples: ["$ authly admin user revoke-consent alice <client-id>", "$ authly admin user revoke-consent alice <client-id> --confirm --output json"],
    json: '{ "user_id", "client_id", "revoked": true, "revoked_grants": N }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const json = ctx.format(args.output) === "json";
    const path = `/admin/users/${user.id}/consents/${encodeURIComponent(args.client_id)}`;
    const missing = { message: "Consent not found", detail: `'${user.username}' has no consent for client '${args.client_id}'.` };
    if (args["dry-run"]) {
      const list = await ctx.api.get<{ consents: Consent[] }>(`/admin/users/${user.id}/consents`, { notFound: notFound(args.user) });
      const found = list.consents.find((c) => c.client_id === args.client_id);
      if (!found) throw new CliError(missing.message, ExitCode.notFound, missing.detail);
      if (json) return printJson({ user_id: user.id, client_id: args.client_id, dry_run: true });
      console.log(`Dry run: would revoke the consent of '${user.username}' to '${found.client_name ?? found.client_id}'. Nothing was changed.`);
      return;
    }
    await confirmAction(`Revoke the consent of '${user.username}' to client '${args.client_id}'?`, args);
    const res = await ctx.api.delete<{ user_id: string; client_id: string; revoked: boolean; revoked_grants: number }>(path, { notFound: missing });
    if (json) return printJson(res);
    success(`Consent of '${user.username}' to '${args.client_id}' revoked (${res.revoked_grants} grant(s) revoked)`);
  },
});
