// `authly admin mail test --to ADDRESS`: queues a test mail through the server's outbox
// (POST /admin/mail/test); `authly admin status` shows whether it went out.
import { defineCommand } from "citty";
import { printJson } from "../output";
import { createContext } from "./context";
import { defineAdminCommand, helpText, outputArgs } from "./shared";

const test = defineAdminCommand({
  meta: { name: "test", description: "Queue a test mail to an address (checks AUTHLY_SMTP_URL end to end)." },
  args: {
    to: { type: "string", valueHint: "ADDRESS", description: "Recipient address", required: true },
    ...outputArgs,
  },
  help: helpText({
    details: "The server queues the mail and its outbox worker sends it, retrying with back-off while the mail server is down; `authly admin status` shows the outbox (pending, failed, sent).\nExit 5 when mail is not configured on the server (AUTHLY_SMTP_URL, AUTHLY_MAIL_FROM).",
    examples: ["$ authly admin mail test --to ops@example.com", "$ authly admin mail test --to ops@example.com --output json | jq -r .id"],
    json: '{ "id": "42", "to": "ops@example.com", "queued": true }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.post<{ id: string; to: string; queued: true }>("/admin/mail/test", { json: { to: args.to } });
    if (ctx.format(args.output) === "json") return printJson(res);
    console.log(`✓ Test mail ${res.id} queued to ${res.to}; \`authly admin status\` shows the outbox.`);
  },
});

export default defineCommand({
  meta: { name: "mail", description: "Outgoing mail." },
  subCommands: { test },
});
