// `authly admin user mfa list|reset USER`: a user's sign-in factors through the admin API
// (/admin/users/:id/mfa). A reset is for a lost phone or security key; it is audited (user.mfa.reset).
import { defineCommand, type CommandDef } from "citty";
import { CliError, ExitCode } from "../../errors";
import { formatTime, printFields, printJson, printTable, success } from "../output";
import { createContext } from "./context";
import { confirmAction } from "./prompt";
import { defineAdminCommand, destructiveArgs, helpText, outputArgs } from "./shared";
import { notFound, resolveUser, userArg } from "./user-common";

export const FACTOR_CHOICES = ["totp", "webauthn", "recovery", "all"];

interface Factors {
  user_id: string;
  username: string;
  totp: { enrolled: boolean; confirmed_at: string | null; last_used_at: string | null };
  recovery_codes: { remaining: number };
  webauthn: { id: string; name: string; passkey: boolean; device_type: string; created_at: string; last_used_at: string | null }[];
}

const list = defineAdminCommand({
  meta: { name: "list", description: "List a user's sign-in factors (authenticator app, recovery codes, passkeys)." },
  args: { ...userArg, ...outputArgs },
  help: helpText({
    examples: ["$ authly admin user mfa list alice", "$ authly admin user mfa list alice --output json"],
    json: '{ "user_id", "username", "totp": { enrolled, confirmed_at, last_used_at }, "recovery_codes": { remaining }, "webauthn": [ { id, name, passkey, device_type, created_at, last_used_at } ] }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const f = await ctx.api.get<Factors>(`/admin/users/${user.id}/mfa`, { notFound: notFound(args.user) });
    if (ctx.format(args.output) === "json") return printJson(f);
    printFields([
      ["User", `${f.username} (${f.user_id})`],
      ["Authenticator app", f.totp.enrolled ? `on since ${formatTime(f.totp.confirmed_at!)}${f.totp.last_used_at ? `, last used ${formatTime(f.totp.last_used_at)}` : ""}` : "off"],
      ["Recovery codes left", f.recovery_codes.remaining],
    ]);
    if (f.webauthn.length) {
      console.log("");
      printTable(["Name", "Kind", "Device", "Added", "Last used"], f.webauthn.map((c) => [c.name, c.passkey ? "passkey" : "security key", c.device_type, formatTime(c.created_at), c.last_used_at ? formatTime(c.last_used_at) : "-"]));
    } else console.log("Passkeys and security keys: none");
  },
});

const reset = defineAdminCommand({
  meta: { name: "reset", description: "Remove a user's sign-in factors (lost phone or security key)." },
  args: {
    ...userArg,
    factor: { type: "enum", options: FACTOR_CHOICES, description: "Which factor to remove: totp, webauthn, recovery or all (default: all)" },
    ...destructiveArgs,
    ...outputArgs,
  },
  help: helpText({
    details: "The user signs in with the password next time and, where a policy requires a second factor,\nsets one up again. Audited as user.mfa.reset. Asks for confirmation on a terminal.",
    examples: ["$ authly admin user mfa reset alice", "$ authly admin user mfa reset alice --factor totp --confirm"],
    json: '{ "user_id", "removed": { "totp": bool, "webauthn": n, "recovery_codes": n } }  (dry run: { "user_id", "username", "dry_run": true, "factor" })',
  }),
  async run({ args }) {
    const factor = (args.factor as string | undefined) ?? "all";
    if (!FACTOR_CHOICES.includes(factor)) throw new CliError(`Unknown factor: ${factor}`, ExitCode.validation, `Use one of: ${FACTOR_CHOICES.join(", ")}.`);
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    const json = ctx.format(args.output) === "json";
    if (args["dry-run"]) {
      if (json) return printJson({ user_id: user.id, username: user.username, dry_run: true, factor });
      console.log(`Dry run: would remove ${factor === "all" ? "every sign-in factor" : `the ${factor} factor`} of '${user.username}' (${user.id}). Nothing was changed.`);
      return;
    }
    await confirmAction(`Remove ${factor === "all" ? "every sign-in factor" : `the ${factor} factor`} of '${user.username}'?`, args);
    const res = await ctx.api.post<{ user_id: string; removed: { totp: boolean; webauthn: number; recovery_codes: number } }>(`/admin/users/${user.id}/mfa/reset`, { json: { factor }, notFound: notFound(args.user) });
    if (json) return printJson(res);
    success(`Sign-in factors of '${user.username}' reset: authenticator app ${res.removed.totp ? "removed" : "none"}, ${res.removed.webauthn} passkey(s), ${res.removed.recovery_codes} recovery code(s) removed`);
  },
});

export const mfa = {
  ...defineCommand({
    meta: { name: "mfa", description: "List or reset a user's sign-in factors." },
    subCommands: { list, reset },
  }),
  help: helpText({ examples: ["$ authly admin user mfa list alice", "$ authly admin user mfa reset alice --factor totp --confirm"] }),
} as CommandDef<any>;
