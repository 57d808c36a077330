// `authly admin user create|list|show|update` (and the group): user accounts through the admin API
// (/admin/users, docs/contracts.md). A user is named by id or by username.
import { defineCommand } from "citty";
import { CliError, ExitCode } from "../../errors";
import { formatTime, printFields, printJson, printTable, success } from "../output";
import { createContext } from "./context";
import { isInteractive } from "./prompt";
import { defineAdminCommand, flagPair, helpText, outputArgs, parseWhole } from "./shared";
import { consents, deactivate, del, resetPassword, revokeConsent, revokeSessions, sessions, unlock } from "./user-access";
import { mfa } from "./user-mfa";
import { verifyEmail } from "./user-verify";
import { invite } from "./user-invite";
import { askNewPassword, notFound, printUser, profileArgs, profileBody, resolveUser, userArg, type User } from "./user-common";

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
    const limit = parseWhole(args.limit, "--limit", 1, 100)!;
    const offset = parseWhole(args.offset, "--offset", 0)!;
    const ctx = createContext();
    const res = await ctx.api.get<{ users: User[]; total: number; limit?: number; offset?: number }>("/admin/users", {
      query: { limit, offset, q: args.search, include_inactive: args["show-inactive"] ? true : undefined },
    });
    if (ctx.format(args.output) === "json") return printJson({ users: res.users, total: res.total, limit: res.limit ?? limit, offset: res.offset ?? offset });
    if (res.users.length) {
      const ts = ctx.settings.output.showTimestamps;
      printTable(
        ["ID", "Username", "Email", "Admin", "Status", "Locked", ...(ts ? ["Last login", "Created"] : [])],
        res.users.map((u) => [u.id, u.username, u.email ?? "-", u.is_admin ? "Yes" : "No", u.is_active ? "active" : "inactive", u.login_lock ? `until ${formatTime(u.login_lock.until)}` : "no", ...(ts ? [formatTime(u.last_login_at), formatTime(u.created_at)] : [])]),
      );
    } else console.log("No users found.");
    console.log(`\nTotal: ${res.total} user${res.total === 1 ? "" : "s"}`);
  },
});


const show = defineAdminCommand({
  meta: { name: "show", description: "Show one user account." },
  args: { ...userArg, ...outputArgs },
  help: helpText({
    details: "\"Locked\" says whether login throttling holds the user's sign-ins back: until when, how many failures, how many sources are locked out, and whether new sources are slowed down. `authly admin user unlock USER` clears it.",
    examples: ["$ authly admin user show alice", "$ authly admin user show 0f3c...-uuid --output json", "$ authly admin user show alice --output json | jq .login_lock"],
    json: 'The user object, with "login_lock": null or { until, failures, locked_sources, slowed_down }, and "identities": the linked upstream identities.',
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const linked = await ctx.api.get<{ identities: { idp: string; idp_name: string; subject: string; email: string | null; last_used_at: string | null }[] }>(`/admin/users/${user.id}/identities`);
    if (ctx.format(args.output) === "json") return printJson({ ...user, identities: linked.identities });
    printUser(user);
    console.log(`\nLinked identities: ${linked.identities.length ? "" : "none"}`);
    if (linked.identities.length) printTable(["Provider", "Subject", "Email", "Last used"], linked.identities.map((i) => [i.idp, i.subject, i.email ?? "", i.last_used_at ? formatTime(i.last_used_at) : "never"]));
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


export default defineCommand({
  meta: { name: "user", description: "Manage user accounts." },
  subCommands: { create, list, show, update, deactivate, delete: del, "reset-password": resetPassword, sessions, "revoke-sessions": revokeSessions, unlock, consents, "revoke-consent": revokeConsent, mfa, "verify-email": verifyEmail, invite },
});
