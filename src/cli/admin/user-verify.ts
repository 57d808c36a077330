// `authly admin user verify-email USER [--resend]`: whether the user's address is verified, and
// (--resend) a new verification link by mail (POST /admin/users/:id/verification-email).
import { printJson, success } from "../output";
import { createContext } from "./context";
import { defineAdminCommand, helpText, outputArgs } from "./shared";
import { notFound, resolveUser, userArg } from "./user-common";

export const verifyEmail = defineAdminCommand({
  meta: { name: "verify-email", description: "Show whether a user's email address is verified; --resend mails a new verification link." },
  args: { ...userArg, resend: { type: "boolean", description: "Queue a new verification link to the user's address (the older link stops working)" }, ...outputArgs },
  help: helpText({
    details: "A link is mailed by itself when a user gets an address that is not verified (creation, change) and mail is configured; `email_verified` in ID tokens and UserInfo follows it.\nExit 5 with --resend when mail is not configured on the server, the user has no address, or it is already verified.",
    examples: ["$ authly admin user verify-email alice", "$ authly admin user verify-email alice --resend"],
    json: '{ "id", "email", "queued": true }  (with --resend); otherwise { "id", "username", "email", "email_verified" }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const user = await resolveUser(ctx, args.user);
    if (!args.resend) {
      const view = { id: user.id, username: user.username, email: user.email ?? null, email_verified: Boolean(user.email_verified) };
      if (ctx.format(args.output) === "json") return printJson(view);
      console.log(view.email ? `${view.email}: ${view.email_verified ? "verified" : "not verified (send a link with --resend)"}` : `'${user.username}' has no email address`);
      return;
    }
    const res = await ctx.api.post<{ id: string; email: string; queued: true }>(`/admin/users/${user.id}/verification-email`, { json: {}, notFound: notFound(args.user) });
    if (ctx.format(args.output) === "json") return printJson(res);
    success(`Verification link queued to ${res.email}`);
  },
});
