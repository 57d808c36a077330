// `authly admin branding show|set|reset [--client ID]`: product name, logo, colours and extra
// stylesheet of the pages and mails, server-wide or per client, through the admin API
// (/admin/branding, /admin/clients/:client_id/branding).
import { defineCommand } from "citty";
import { CliError, ExitCode } from "../../errors";
import { formatTime, printFields, printJson, success } from "../output";
import { createContext } from "./context";
import { confirmAction } from "./prompt";
import { collect, defineAdminCommand, destructiveArgs, helpText, outputArgs } from "./shared";

interface Branding {
  client_id: string | null;
  product_name: string | null;
  logo_uri: string | null;
  primary_colour: string | null;
  background_colour: string | null;
  text_colour: string | null;
  stylesheet: string | null;
  updated_at: string | null;
}

const FIELDS = ["product_name", "logo_uri", "primary_colour", "background_colour", "text_colour", "stylesheet"] as const;
/** Files read for --logo-file / --stylesheet-file: the server's own limits, checked before sending. */
const MAX_LOGO_FILE = 64 * 1024;
const MAX_STYLESHEET_FILE = 32 * 1024;
const LOGO_TYPES: Record<string, string> = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp", svg: "image/svg+xml" };

const clientArg = { client: { type: "string", valueHint: "CLIENT_ID", description: "A client's branding (default: the server-wide branding)" } } as const;

function path(client: string | undefined): string {
  return client ? `/admin/clients/${encodeURIComponent(client)}/branding` : "/admin/branding";
}

const notFound = (client: string | undefined) => (client ? { message: `Client not found: ${client}`, detail: "List the clients with `authly admin client list`." } : undefined);

function printBranding(b: Branding): void {
  const css = b.stylesheet ? `${new TextEncoder().encode(b.stylesheet).length} bytes` : null;
  const logo = b.logo_uri?.startsWith("data:") ? `${b.logo_uri.slice(0, b.logo_uri.indexOf(","))} (${b.logo_uri.length} characters)` : b.logo_uri;
  printFields([
    ["Applies to", b.client_id ? `client ${b.client_id} (empty fields: server-wide value)` : "server-wide (empty fields: built-in look)"],
    ["Product name", b.product_name ?? "-"],
    ["Logo", logo ?? "-"],
    ["Primary colour", b.primary_colour ?? "-"],
    ["Background colour", b.background_colour ?? "-"],
    ["Text colour", b.text_colour ?? "-"],
    ["Extra stylesheet", css ?? "-"],
    ["Updated", b.updated_at ? formatTime(b.updated_at) : "-"],
  ]);
}

async function readLimited(file: string, max: number, what: string): Promise<Uint8Array> {
  const f = Bun.file(file);
  if (!(await f.exists())) throw new CliError(`${what} not found: ${file}`, ExitCode.validation);
  if (f.size > max) throw new CliError(`${what} is ${f.size} bytes; at most ${max} are allowed`, ExitCode.validation);
  return new Uint8Array(await f.arrayBuffer());
}

const show = defineAdminCommand({
  meta: { name: "show", description: "Show the branding (server-wide, or a client's with --client)." },
  args: { ...clientArg, ...outputArgs },
  help: helpText({
    details: "A client's branding lists only its own values; its pages use the server-wide value for every empty field.",
    examples: ["$ authly admin branding show", "$ authly admin branding show --client my-app --output json"],
    json: '{ "client_id", "product_name", "logo_uri", "primary_colour", "background_colour", "text_colour", "stylesheet", "updated_at" }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const b = await ctx.api.get<Branding>(path(args.client), { notFound: notFound(args.client) });
    if (ctx.format(args.output) === "json") return printJson(b);
    printBranding(b);
  },
});

const set = defineAdminCommand({
  meta: { name: "set", description: "Set the product name, logo, colours or extra stylesheet." },
  args: {
    ...clientArg,
    "product-name": { type: "string", valueHint: "NAME", description: "Shown in the page header, page titles and mails (1-64 characters)" },
    "logo-uri": { type: "string", valueHint: "URI", description: "An https URL (the server fetches and inlines it) or a data:image/...;base64 URI" },
    "logo-file": { type: "string", valueHint: "PATH", description: "A png, jpeg, gif, webp or svg file (at most 64 KiB), sent as a data: URI" },
    "primary-colour": { type: "string", valueHint: "COLOUR", description: "Buttons, links and focus ring: #rrggbb, rgb(...), hsl(...) or a colour name" },
    "background-colour": { type: "string", valueHint: "COLOUR", description: "Page background" },
    "text-colour": { type: "string", valueHint: "COLOUR", description: "Text outside the card" },
    "stylesheet-file": { type: "string", valueHint: "PATH", description: "Extra CSS (at most 32 KiB; no @import, no url() but data:image, no backslash escapes)" },
    clear: { type: "string", valueHint: "FIELD", description: `Clear a field (repeatable): ${FIELDS.join(", ")}` },
    ...outputArgs,
  },
  help: helpText({
    details: "Only the fields given change; --clear empties one (a client's then follows the server-wide value). Colours must be CSS colour values and nothing else; the server refuses anything that could inject CSS (exit 5, naming the field). Pages show the change within 5 seconds.",
    examples: [
      '$ authly admin branding set --product-name "Acme ID" --primary-colour "#b00020" --logo-file ./acme.svg',
      "$ authly admin branding set --client my-app --primary-colour rebeccapurple --stylesheet-file ./my-app.css",
      "$ authly admin branding set --client my-app --clear stylesheet",
    ],
    json: '{ "client_id", "product_name", "logo_uri", "primary_colour", "background_colour", "text_colour", "stylesheet", "updated_at" }',
  }),
  async run({ args, rawArgs }) {
    const body: Record<string, string | null> = {};
    if (args["product-name"] !== undefined) body.product_name = args["product-name"];
    if (args["logo-uri"] !== undefined && args["logo-file"] !== undefined) throw new CliError("Give --logo-uri or --logo-file, not both", ExitCode.validation);
    if (args["logo-uri"] !== undefined) body.logo_uri = args["logo-uri"];
    if (args["logo-file"] !== undefined) {
      const ext = args["logo-file"].split(".").pop()?.toLowerCase() ?? "";
      const type = LOGO_TYPES[ext];
      if (!type) throw new CliError(`--logo-file must be a ${Object.keys(LOGO_TYPES).join(", ")} file`, ExitCode.validation);
      const bytes = await readLimited(args["logo-file"], MAX_LOGO_FILE, "Logo file");
      body.logo_uri = `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
    }
    if (args["primary-colour"] !== undefined) body.primary_colour = args["primary-colour"];
    if (args["background-colour"] !== undefined) body.background_colour = args["background-colour"];
    if (args["text-colour"] !== undefined) body.text_colour = args["text-colour"];
    if (args["stylesheet-file"] !== undefined) {
      const text = new TextDecoder("utf-8", { fatal: false }).decode(await readLimited(args["stylesheet-file"], MAX_STYLESHEET_FILE, "Stylesheet file"));
      body.stylesheet = text;
    }
    for (const field of collect(rawArgs, "clear")) {
      if (!(FIELDS as readonly string[]).includes(field)) throw new CliError(`--clear: unknown field '${field}' (one of ${FIELDS.join(", ")})`, ExitCode.validation);
      if (field in body) throw new CliError(`--clear ${field} conflicts with a value given for it`, ExitCode.validation);
      body[field] = null;
    }
    if (!Object.keys(body).length) throw new CliError("Nothing to set: give at least one option (see --help)", ExitCode.validation);
    const ctx = createContext();
    const b = await ctx.api.patch<Branding>(path(args.client), { json: body, notFound: notFound(args.client) });
    if (ctx.format(args.output) === "json") return printJson(b);
    success(args.client ? `Branding of client ${args.client} updated` : "Server-wide branding updated");
    printBranding(b);
  },
});

const reset = defineAdminCommand({
  meta: { name: "reset", description: "Remove the branding (server-wide: back to the built-in look; a client: back to the server-wide one)." },
  args: { ...clientArg, ...destructiveArgs, ...outputArgs },
  help: helpText({
    details: "Asks for confirmation on a terminal; scripts pass --confirm.",
    examples: ["$ authly admin branding reset --client my-app --confirm", "$ authly admin branding reset --dry-run"],
    json: '{ "client_id", "product_name": null, ... }  (dry run: { "dry_run": true, "branding": {...} })',
  }),
  async run({ args }) {
    const ctx = createContext();
    const json = ctx.format(args.output) === "json";
    const current = await ctx.api.get<Branding>(path(args.client), { notFound: notFound(args.client) });
    if (args["dry-run"]) {
      if (json) return printJson({ dry_run: true, branding: current });
      console.log(`Would remove this branding (dry run, nothing changed):`);
      return printBranding(current);
    }
    await confirmAction(args.client ? `Remove the branding of client ${args.client}?` : "Reset the server-wide branding to the built-in look?", args);
    const b = await ctx.api.delete<Branding>(path(args.client), { notFound: notFound(args.client) });
    if (json) return printJson(b);
    success(args.client ? `Branding of client ${args.client} removed: its pages use the server-wide branding` : "Server-wide branding reset to the built-in look");
  },
});

export default defineCommand({
  meta: { name: "branding", description: "Product name, logo, colours and stylesheet of the pages and mails." },
  subCommands: { show, set, reset },
});
