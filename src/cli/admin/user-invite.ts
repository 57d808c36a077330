// `authly admin user invite --email ADDRESS [--expires-in-hours N]`: a single-use sign-up link for
// one address (POST /admin/invites), mailed by the server when mail is configured and printed here.
import { printFields, printJson, success } from "../output";
import { createContext } from "./context";
import { defineAdminCommand, helpText, outputArgs, parseWhole } from "./shared";

interface Invite {
  id: string;
  email: string;
  url: string;
  expires_at: string;
  mailed: boolean;
}

export const invite = defineAdminCommand({
  meta: { name: "invite", description: "Invite someone to create an account: a single-use sign-up link for one address (mailed and printed)." },
  args: {
    email: { type: "string", valueHint: "ADDRESS", description: "The address the new account will have", required: true },
    "expires-in-hours": { type: "string", valueHint: "N", description: "How long the link works (1-720 hours, default 168)" },
    ...outputArgs,
  },
  help: helpText({
    details: "Needs AUTHLY_SIGNUP=invite (or open) on the server. The link is shown once (only its hash is stored) and works once; it is also mailed to the address when mail is configured, and then the account's address counts as verified.\nExit 5 when sign-up is off, the address already has an account, or a value is invalid.",
    examples: ["$ authly admin user invite --email carol@example.com", "$ authly admin user invite --email carol@example.com --expires-in-hours 24 --output json | jq -r .url"],
    json: '{ "id", "email", "url", "expires_at", "mailed" }',
    security: "The printed link lets whoever holds it create the account: hand it over only to its addressee.",
  }),
  async run({ args }) {
    const hours = parseWhole(args["expires-in-hours"], "--expires-in-hours", 1, 720);
    const ctx = createContext();
    const res = await ctx.api.post<Invite>("/admin/invites", { json: { email: args.email, ...(hours ? { expires_in_hours: hours } : {}) } });
    if (ctx.format(args.output) === "json") return printJson(res);
    success(res.mailed ? `Invite mailed to ${res.email}` : `Invite created for ${res.email} (mail is not configured: hand over the link yourself)`);
    printFields([["Link", res.url], ["Expires", res.expires_at]]);
  },
});
