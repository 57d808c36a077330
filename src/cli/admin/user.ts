// `authly admin user create|list|show|update|deactivate|reset-password`: user accounts through the
// admin API (/admin/users, docs/contracts.md). A user is named by id or by username.
import { defineCommand } from "citty";
import { CliError, ExitCode } from "../../errors";
import { formatTime, printFields, printJson, printTable, success } from "../output";
import { createContext, type AdminContext } from "./context";
import { confirmAction, isInteractive, promptPassword } from "./prompt";
import { defineAdminCommand, destructiveArgs, flagPair, helpText, outputArgs, parseWhole } from "./shared";

export interface User {
  id: string;
  username: string;
  email: string | null;
  email_verified: boolean;
  is_active: boolean;
  is_admin: boolean;
  requires_password_change: boolean;
  name?: string | null;
  given_name?: string | null;
  family_name?: string | null;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
  generated_password?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notFound = (who: string) => ({ message: "User not found", detail: `User '${who}' does not exist.` });

/** Resolves a username to its id (ids pass through). */
async function resolveUser(ctx: AdminContext, who: string): Promise<User> {
  if (UUID.test(who)) return ctx.api.get<User>(`/admin/users/${who}`, { notFound: notFound(who) });
  const res = await ctx.api.get<{ users: User[] }>("/admin/users", { query: { q: who, include_inactive: true, limit: 100 } });
  const user = res.users.find((u) => u.username === who) ?? res.users.find((u) => u.username.toLowerCase() === who.toLowerCase());
  if (!user) throw new CliError("User not found", ExitCode.notFound, `User '${who}' does not exist.`);
  return user;
}

function printUser(u: User): void {
  printFields([
    ["ID", u.id],
    ["Username", u.username],
    ["Email", u.email],
    ["Email verified", u.email_verified],
    ["Name", u.name],
    ["Admin", u.is_admin],
    ["Must change password", u.requires_password_change],
    ["Status", u.is_active ? "active" : "inactive"],
    ["Last login", formatTime(u.last_login_at)],
    ["Created", formatTime(u.created_at)],
    ["Updated", formatTime(u.updated_at)],
  ]);
}

async function askNewPassword(): Promise<string | undefined> {
  const first = await promptPassword("New password (empty: generate one): ");
  if (!first) return undefined;
  const second = await promptPassword("Repeat password: ");
  if (first !== second) throw new CliError("The passwords do not match", ExitCode.validation);
  return first;
}

const profileArgs = {
  email: { type: "string", valueHint: "EMAIL", description: "Email address" },
  name: { type: "string", valueHint: "TEXT", description: "Full name (OIDC name claim)" },
  "given-name": { type: "string", valueHint: "TEXT", description: "Given name" },
  "family-name": { type: "string", valueHint: "TEXT", description: "Family name" },
} as const;

function profileBody(args: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [flag, field] of [
    ["email", "email"],
    ["name", "name"],
    ["given-name", "given_name"],
    ["family-name", "family_name"],
  ] as const) {
    if (typeof args[flag] === "string") body[field] = args[flag];
  }
  return body;
}

const create = defineAdminCommand({
  meta: { name: "create", description: "Create a user account." },
  args: {
    username: { type: "string", valueHint: "TEXT", description: "Username", required: true },
    ...profileArgs,
    password: { type: "string", valueHint: "TEXT", description: "Password (not recommended: prompted without echo on a terminal; generated when empty)" },
    "generate-password": { type: "boolean", description: "Let the server generate a password (shown once)" },
    admin: { type: "boolean", description: "Grant admin rights (admin API access)" },
    ...outputArgs,
  },
  help: helpText({
    examples: [
      '$ authly admin user create --username alice --email alice@example.com',
      '$ authly admin user create --username ops --email ops@example.com --admin --generate-password --output json | jq -r .generated_password',
    ],
    json: 'The user (never a password hash) plus "generated_password" when the server generated one.',
    security: "--password shows in shell history and process lists: prefer the hidden prompt or a generated password.",
  }),
  async run({ args }) {
    let password = args.password;
    if (password === undefined && !args["generate-password"] && isInteractive()) password = await askNewPassword();
    const ctx = createContext();
    const user = await ctx.api.post<User>("/admin/users", {
      json: { username: args.username, ...profileBody(args), ...(password ? { password } : {}), is_admin: Boolean(args.admin) },
    });
    if (ctx.format(args.output) === "json") return printJson(user);
    success("User created successfully");
    console.log("");
    printFields([
      ["ID", user.id],
      ["Username", user.username],
      ["Email", user.email],
      ["Admin", user.is_admin],
      ["Status", user.is_active === false ? "inactive" : "active"],
    ]);
    if (user.generated_password) {
      console.log(`Generated password: ${user.generated_password}`);
      console.log("\n⚠️  Save the password securely - it cannot be retrieved again!");
    }
  },
});

const list = defineAdminCommand({
  meta: { name: "list", description: "List user accounts." },
  args: {
    limit: { type: "string", valueHint: "INTEGER", description: "Number of users to show", default: "20" },
    offset: { type: "string", valueHint: "INTEGER", description: "Pagination offset", default: "0" },
    search: { type: "string", valueHint: "TEXT", description: "Only users whose username or email contains this" },
    "show-inactive": { type: "boolean", description: "Include inactive users" },
    ...outputArgs,
  },
  help: helpText({
    examples: ["$ authly admin user list", "$ authly admin user list --search example.com --show-inactive", "$ authly admin user list --output json | jq -r '.users[].username'"],
    json: '{ "users": [ {user}, ... ], "total": N, "limit": N, "offset": N }',
  }),
  async run({ args }) {
    const limit = parseWhole(args.limit, "--limit", 1, 1000)!;
    const offset = parseWhole(args.offset, "--offset", 0)!;
    const ctx = createContext();
    const res = await ctx.api.get<{ users: User[]; total: number; limit?: number; offset?: number }>("/admin/users", {
      query: { limit, offset, q: args.search, include_inactive: args["show-inactive"] ? true : undefined },
    });
    if (ctx.format(args.output) === "json") return printJson({ users: res.users, total: res.total, limit: res.limit ?? limit, offset: res.offset ?? offset });
    if (res.users.length) {
      const ts = ctx.settings.output.showTimestamps;
      printTable(
        ["ID", "Username", "Email", "Admin", "Status", ...(ts ? ["Last login", "Created"] : [])],
        res.users.map((u) => [u.id, u.username, u.email ?? "-", u.is_admin ? "Yes" : "No", u.is_active ? "active" : "inactive", ...(ts ? [formatTime(u.last_login_at), formatTime(u.created_at)] : [])]),
      );
    } else console.log("No users found.");
    console.log(`\nTotal: ${res.total} user${res.total === 1 ? "" : "s"}`);
  },
});

const userArg = { user: { type: "positional", required: true, description: "User id or username", valueHint: "USER" } } as const;

const show = defineAdminCommand({
  meta: { name: "show", description: "Show one user account." },
  args: { ...userArg, ...outputArgs },
  help: helpText({ examples: ["$ authly admin user show alice", "$ authly admin user show 0f3c...-uuid --output json"], json: "The user object." }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    if (ctx.format(args.output) === "json") return printJson(user);
    printUser(user);
  },
});

const update = defineAdminCommand({
  meta: { name: "update", description: "Update a user account." },
  args: {
    ...userArg,
    ...profileArgs,
    admin: { type: "boolean", description: "Grant admin rights", negativeDescription: "Remove admin rights" },
    "email-verified": { type: "boolean", description: "Mark the email as verified", negativeDescription: "Mark the email as not verified" },
    "require-password-change": { type: "boolean", description: "Ask for a new password at the next login", negativeDescription: "Do not ask for a new password" },
    activate: { type: "boolean", description: "Reactivate the account" },
    ...outputArgs,
  },
  help: helpText({
    details: "Only the options given change. To deactivate an account use `authly admin user deactivate`.",
    examples: ['$ authly admin user update alice --email alice@new.example --name "Alice Liddell"', "$ authly admin user update alice --no-admin", "$ authly admin user update alice --activate"],
    json: "The updated user object.",
  }),
  async run({ args, rawArgs }) {
    const body = profileBody(args);
    for (const [flag, field] of [
      ["admin", "is_admin"],
      ["email-verified", "email_verified"],
      ["require-password-change", "requires_password_change"],
    ] as const) {
      const v = flagPair(rawArgs, flag, `no-${flag}`);
      if (v !== undefined) body[field] = v;
    }
    if (args.activate) body.is_active = true;
    if (!Object.keys(body).length) throw new CliError("Nothing to update", ExitCode.validation, "Pass at least one option to change; see --help.");
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const updated = await ctx.api.patch<User>(`/admin/users/${user.id}`, { json: body, notFound: notFound(args.user) });
    if (ctx.format(args.output) === "json") return printJson(updated);
    success("User updated successfully");
    console.log("");
    printUser(updated);
  },
});

const deactivate = defineAdminCommand({
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

const resetPassword = defineAdminCommand({
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

const del = defineAdminCommand({
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

const sessions = defineAdminCommand({
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

const revokeSessions = defineAdminCommand({
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

export default defineCommand({
  meta: { name: "user", description: "Manage user accounts." },
  subCommands: { create, list, show, update, deactivate, delete: del, "reset-password": resetPassword, sessions, "revoke-sessions": revokeSessions },
});
