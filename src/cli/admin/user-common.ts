// What the user commands share: the User JSON of the admin API, naming a user by id or username,
// printing one, the profile options and the new-password prompt.
import { CliError, ExitCode } from "../../errors";
import { formatTime, formatUtc, printFields } from "../output";
import type { AdminContext } from "./context";
import { promptPassword } from "./prompt";

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
  /** Login throttling in force (GET /admin/users and /admin/users/:id only). */
  login_lock?: LoginLock | null;
}

export interface LoginLock {
  until: string;
  failures: number;
  locked_sources: number;
  slowed_down: boolean;
}

/** "until 2025-07-30 15:30:00 UTC (7 failures; 2 sources locked out; slowed down for new sources)", or "no". */
export function describeLock(lock: LoginLock | null | undefined): string {
  if (!lock) return "no";
  const how = [`${lock.failures} failure${lock.failures === 1 ? "" : "s"}`];
  if (lock.locked_sources) how.push(`${lock.locked_sources} source${lock.locked_sources === 1 ? "" : "s"} locked out`);
  if (lock.slowed_down) how.push("slowed down for new sources");
  return `until ${formatUtc(lock.until)} (${how.join("; ")})`;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const notFound = (who: string) => ({ message: "User not found", detail: `User '${who}' does not exist.` });

/** Resolves a username to its id (ids pass through). */
export async function resolveUser(ctx: AdminContext, who: string): Promise<User> {
  if (UUID.test(who)) return ctx.api.get<User>(`/admin/users/${who}`, { notFound: notFound(who) });
  const res = await ctx.api.get<{ users: User[] }>("/admin/users", { query: { q: who, include_inactive: true, limit: 100 } });
  const user = res.users.find((u) => u.username === who) ?? res.users.find((u) => u.username.toLowerCase() === who.toLowerCase());
  if (!user) throw new CliError("User not found", ExitCode.notFound, `User '${who}' does not exist.`);
  return user;
}

export function printUser(u: User): void {
  printFields([
    ["ID", u.id],
    ["Username", u.username],
    ["Email", u.email],
    ["Email verified", u.email_verified],
    ["Name", u.name],
    ["Admin", u.is_admin],
    ["Must change password", u.requires_password_change],
    ["Status", u.is_active ? "active" : "inactive"],
    ...(u.login_lock !== undefined ? [["Locked", describeLock(u.login_lock)] as [string, string]] : []),
    ["Last login", formatTime(u.last_login_at)],
    ["Created", formatTime(u.created_at)],
    ["Updated", formatTime(u.updated_at)],
  ]);
}

export async function askNewPassword(): Promise<string | undefined> {
  const first = await promptPassword("New password (empty: generate one): ");
  if (!first) return undefined;
  const second = await promptPassword("Repeat password: ");
  if (first !== second) throw new CliError("The passwords do not match", ExitCode.validation);
  return first;
}

export const profileArgs = {
  email: { type: "string", valueHint: "EMAIL", description: "Email address" },
  name: { type: "string", valueHint: "TEXT", description: "Full name (OIDC name claim)" },
  "given-name": { type: "string", valueHint: "TEXT", description: "Given name" },
  "family-name": { type: "string", valueHint: "TEXT", description: "Family name" },
} as const;

export function profileBody(args: Record<string, unknown>): Record<string, unknown> {
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


export const userArg = { user: { type: "positional", required: true, description: "User id or username", valueHint: "USER" } } as const;
