// `authly admin auth change-password`, and the check after login: a generated or reset password
// is temporary and must be replaced before the admin API answers (POST /admin/me/password).
import { CliError, ExitCode } from "../../errors";
import { success } from "../output";
import { createContext, requireTokens, type AdminContext } from "./context";
import { isInteractive, promptPassword } from "./prompt";
import { defineAdminCommand, helpText } from "./shared";

export interface Me {
  id: string;
  username: string;
  is_admin: boolean;
  requires_password_change: boolean;
  scopes: string[];
  token_expires_at: string;
}

/** A generated or reset password must be replaced before the admin API answers (403 until then). */
export async function checkTemporaryPassword(ctx: AdminContext, current: string, prompted: boolean): Promise<void> {
  let me: Me;
  try {
    me = await ctx.api.get<Me>("/admin/me");
  } catch {
    return; // Not an admin, or an older server: the commands themselves will say so.
  }
  if (!me.requires_password_change) return;
  if (prompted && isInteractive()) {
    console.error("Your password is temporary: choose a new one now.");
    await changePassword(ctx, current, await askNew());
    return;
  }
  console.error("Warning: your password is temporary: admin commands are refused (exit code 3) until you run `authly admin auth change-password`.");
}

async function askNew(): Promise<string> {
  const first = await promptPassword("New password: ");
  const second = await promptPassword("Repeat new password: ");
  if (first !== second) throw new CliError("The new passwords do not match", ExitCode.validation);
  return first;
}

async function changePassword(ctx: AdminContext, current: string, next: string): Promise<void> {
  await ctx.api.post("/admin/me/password", { json: { current_password: current, new_password: next } });
  success("Password changed");
}

export const changePasswordCmd = defineAdminCommand({
  meta: { name: "change-password", description: "Change your own password (required after a generated or reset one)." },
  args: {
    "current-password": { type: "string", valueHint: "TEXT", description: "Current password (prompted without echo when missing)" },
    "new-password": { type: "string", valueHint: "TEXT", description: "New password (prompted twice without echo when missing)" },
  },
  help: helpText({
    details: "A generated or reset password is temporary: the admin API refuses other commands (exit code 3)\nuntil it is replaced. The server checks the new password's strength.\nYour other sessions and tokens (browser sessions, other CLI logins, applications' tokens) are\nrevoked; this CLI login stays signed in.",
    examples: ["$ authly admin auth change-password", '$ authly admin auth change-password --current-password "$OLD" --new-password "$NEW"'],
    security: "Passwords given as options show in shell history and process lists: prefer the prompts.",
  }),
  async run({ args }) {
    const ctx = createContext();
    requireTokens(ctx);
    let current = args["current-password"];
    let next = args["new-password"];
    if (current === undefined || next === undefined) {
      if (!isInteractive()) throw new CliError("Passwords required", ExitCode.validation, "Not a terminal: pass --current-password and --new-password.");
      if (current === undefined) current = await promptPassword("Current password: ");
      if (next === undefined) next = await askNew();
    }
    await changePassword(ctx, current, next);
  },
});

