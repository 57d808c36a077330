// `authly admin client create|list|show|update|delete|regenerate-secret`: OAuth client
// registrations through the admin API (/admin/clients, docs/contracts.md).
import { defineCommand, type CommandDef } from "citty";
import { CliError, ExitCode } from "../../errors";
import { formatTime, inert, note, printFields, printJson, printTable, success } from "../output";
import { metadataArgs, metadataBody, notFound, path, printClient, SECRET_WARNING, type Client } from "./client-common";
import { createContext, type AdminContext } from "./context";
import { confirmAction } from "./prompt";
import { defineAdminCommand, destructiveArgs, flagPair, helpText, outputArgs, parseWhole } from "./shared";

const create = defineAdminCommand({
  meta: { name: "create", description: "Create a new OAuth 2.1 client." },
  args: {
    name: { type: "string", valueHint: "TEXT", description: "Client display name", required: true },
    type: { type: "enum", options: ["public", "confidential"], description: "Client type", required: true },
    ...metadataArgs,
    ...outputArgs,
  },
  help: helpText({
    details: `Creates an OAuth client application that can request authorization.
Public clients (SPAs, mobile) don't receive a secret.
Confidential clients (backend) receive a client secret, shown once.
--redirect-uri is required unless the grant types exclude authorization_code.`,
    examples: [
      '# Create a public client for a React SPA\n$ authly admin client create --name "My React App" --type public \\\n    --redirect-uri "http://localhost:3000/callback"',
      '# Create a confidential client for a backend API\n$ authly admin client create --name "Backend Service" --type confidential \\\n    --redirect-uri "https://api.example.com/oauth/callback" \\\n    --scope "read write admin"',
      '# Machine-to-machine client (client credentials), id for scripts\n$ authly admin client create --name "Batch Job" --type confidential \\\n    --grant-type client_credentials --scope read --output json | jq -r .client_id',
      '# private_key_jwt client\n$ authly admin client create --name "Signed" --type confidential --auth-method private_key_jwt \\\n    --jwks-uri "https://api.example.com/jwks.json" --redirect-uri "https://api.example.com/cb"',
    ],
    json: "The client (see `client show --output json`) plus \"client_secret\" for confidential clients.",
    security: "The client secret is shown once and stored only as a hash: save it in a secret manager at once.\nWith --output json it is in the JSON: do not write that to logs.",
  }),
  async run({ args, rawArgs }) {
    const body: Record<string, unknown> = { client_name: args.name, client_type: args.type, ...metadataBody(rawArgs, args) };
    body.redirect_uris ??= [];
    body.token_endpoint_auth_method ??= args.type === "public" ? "none" : "client_secret_basic";
    const redirects = body.redirect_uris as string[];
    body.grant_types ??= args.type === "confidential" && redirects.length === 0 ? ["client_credentials"] : ["authorization_code", "refresh_token"];
    if ((body.grant_types as string[]).includes("authorization_code") && redirects.length === 0) {
      throw new CliError("Missing required argument: --redirect-uri", ExitCode.validation, "Clients that use the authorization code flow need at least one redirect URI.");
    }
    if (body.token_endpoint_auth_method === "private_key_jwt" && !body.jwks_uri) {
      throw new CliError("--auth-method private_key_jwt needs --jwks-uri", ExitCode.validation);
    }
    const ctx = createContext();
    const client = await ctx.api.post<Client>("/admin/clients", { json: body });
    if (ctx.format(args.output) === "json") return printJson(client);
    success("Client created successfully");
    console.log("");
    printFields([
      ["Client ID", client.client_id],
      ...(client.client_secret ? ([["Client Secret", client.client_secret]] as [string, unknown][]) : []),
      ["Name", client.client_name],
      ["Type", client.client_type],
      ["Redirect URIs", client.redirect_uris],
      ["Scopes", (client.scope ?? "").split(" ").filter(Boolean)],
      ...(client.backchannel_logout_uri ? ([["Back-channel logout URI", client.backchannel_logout_uri]] as [string, unknown][]) : []),
      ["Status", client.is_active === false ? "inactive" : "active"],
    ]);
    if (client.client_secret) console.log(`\n${SECRET_WARNING}`);
  },
});

const list = defineAdminCommand({
  meta: { name: "list", description: "List all OAuth clients." },
  args: {
    limit: { type: "string", valueHint: "INTEGER", description: "Number of clients to show", default: "20" },
    offset: { type: "string", valueHint: "INTEGER", description: "Pagination offset", default: "0" },
    "show-inactive": { type: "boolean", description: "Include inactive clients" },
    ...outputArgs,
  },
  help: helpText({
    examples: [
      "# List active clients\n$ authly admin client list",
      "# Show all clients including inactive\n$ authly admin client list --show-inactive",
      "# JSON output for scripting\n$ authly admin client list --output json | jq -r '.clients[].client_id'",
      "# Paginated listing\n$ authly admin client list --limit 10 --offset 20",
    ],
    json: '{ "clients": [ {client}, ... ], "total": N, "limit": N, "offset": N }',
  }),
  async run({ args }) {
    const limit = parseWhole(args.limit, "--limit", 1, 100)!;
    const offset = parseWhole(args.offset, "--offset", 0)!;
    const ctx = createContext();
    const res = await ctx.api.get<{ clients: Client[]; total: number; limit?: number; offset?: number }>("/admin/clients", {
      query: { limit, offset, include_inactive: args["show-inactive"] ? true : undefined },
    });
    if (ctx.format(args.output) === "json") return printJson({ clients: res.clients, total: res.total, limit: res.limit ?? limit, offset: res.offset ?? offset });
    if (!res.clients.length) {
      console.log(offset ? `No clients at offset ${offset}.` : "No clients found.");
    } else {
      const ts = ctx.settings.output.showTimestamps;
      printTable(
        ["Client ID", "Name", "Type", "Status", ...(ts ? ["Created"] : [])],
        res.clients.map((c) => [c.client_id, c.client_name, c.client_type, c.is_active ? "active" : "inactive", ...(ts ? [formatTime(c.created_at)] : [])]),
      );
    }
    const shown = res.clients.length < res.total ? ` (showing ${res.clients.length ? `${offset + 1}-${offset + res.clients.length}` : "none"})` : "";
    console.log(`\nTotal: ${res.total} client${res.total === 1 ? "" : "s"}${shown}`);
  },
});

const show = defineAdminCommand({
  meta: { name: "show", description: "Show the details of one client (never its secret)." },
  args: {
    client_id: { type: "positional", required: true, description: "Client ID", valueHint: "CLIENT_ID" },
    ...outputArgs,
  },
  help: helpText({ examples: ["$ authly admin client show 7f9a8b2c-1234-5678-9abc-def012345678", "$ authly admin client show <client-id> --output json | jq .redirect_uris"], json: "The client object (docs/contracts.md Client JSON)." }),
  async run({ args }) {
    const ctx = createContext();
    const client = await ctx.api.get<Client>(path(args.client_id), { notFound: notFound(args.client_id) });
    if (ctx.format(args.output) === "json") return printJson(client);
    printClient(client);
  },
});

const update = defineAdminCommand({
  meta: { name: "update", description: "Update a client's metadata." },
  args: {
    client_id: { type: "positional", required: true, description: "Client ID", valueHint: "CLIENT_ID" },
    name: { type: "string", valueHint: "TEXT", description: "New display name" },
    ...metadataArgs,
    activate: { type: "boolean", description: "Reactivate an inactive client" },
    deactivate: { type: "boolean", description: "Deactivate the client (it can no longer get tokens)" },
    ...outputArgs,
  },
  help: helpText({
    details: "Only the options given change. A repeatable option (--redirect-uri, --scope, ...) replaces the whole list.",
    examples: [
      '$ authly admin client update <client-id> \\\n    --name "Updated Portal Name" \\\n    --logo-uri "https://portal.example.com/new-logo.png"',
      '$ authly admin client update <client-id> --redirect-uri "https://a.example/cb" --redirect-uri "https://b.example/cb"',
      '# Send logout tokens to the app when a user\'s session ends ("" removes the URI)\n$ authly admin client update <client-id> --backchannel-logout-uri "https://portal.example.com/backchannel-logout"',
      "$ authly admin client update <client-id> --deactivate",
    ],
    json: "The updated client object.",
  }),
  async run({ args, rawArgs }) {
    const body = metadataBody(rawArgs, args);
    if (args.name !== undefined) body.client_name = args.name;
    const active = flagPair(rawArgs, "activate", "deactivate");
    if (active !== undefined) body.is_active = active;
    if (Object.keys(body).length === 0) throw new CliError("Nothing to update", ExitCode.validation, "Pass at least one option to change; see --help.");
    const ctx = createContext();
    const client = await ctx.api.patch<Client>(path(args.client_id), { json: body, notFound: notFound(args.client_id) });
    if (ctx.format(args.output) === "json") return printJson(client);
    success("Client updated successfully");
    console.log("");
    printClient(client);
  },
});

async function loadClient(ctx: AdminContext, id: string): Promise<Client> {
  return ctx.api.get<Client>(path(id), { notFound: notFound(id) });
}

const del = defineAdminCommand({
  meta: { name: "delete", description: "Delete (deactivate) a client." },
  args: {
    client_id: { type: "positional", required: true, description: "Client ID", valueHint: "CLIENT_ID" },
    hard: { type: "boolean", description: "Remove the client and its grants for good instead of deactivating it" },
    ...destructiveArgs,
    ...outputArgs,
  },
  help: helpText({
    details: "By default the client is deactivated (soft delete: it can no longer get tokens, and its\ntokens stop working). Asks for confirmation on a terminal; scripts pass --confirm.",
    examples: ["$ authly admin client delete <client-id>", "$ authly admin client delete <client-id> --dry-run", "$ authly admin client delete <client-id> --hard --confirm"],
    json: '{ "client_id", "deleted": "soft" | "hard" }  (dry run: { "client_id", "dry_run": true, "would_delete": "soft" | "hard" })',
  }),
  async run({ args }) {
    const ctx = createContext();
    const client = await loadClient(ctx, args.client_id);
    const kind = args.hard ? "hard" : "soft";
    const json = ctx.format(args.output) === "json";
    if (args["dry-run"]) {
      if (json) return printJson({ client_id: client.client_id, dry_run: true, would_delete: kind });
      console.log(`Dry run: would ${args.hard ? "permanently delete" : "deactivate"} client '${inert(client.client_name)}' (${client.client_id}). Nothing was changed.`);
      return;
    }
    await confirmAction(`${args.hard ? "Permanently delete" : "Deactivate"} client '${client.client_name}' (${client.client_id})?`, args);
    const res = await ctx.api.delete<{ client_id: string; deleted: string }>(path(args.client_id), { query: { hard: args.hard ? true : undefined }, notFound: notFound(args.client_id) });
    if (json) return printJson(res);
    success(res.deleted === "hard" ? `Client '${client.client_name}' deleted permanently` : `Client '${client.client_name}' deactivated (soft delete; --hard removes it)`);
  },
});

const regenerate = defineAdminCommand({
  meta: { name: "regenerate-secret", description: "Generate a new client secret (confidential clients)." },
  args: {
    client_id: { type: "positional", required: true, description: "Client ID", valueHint: "CLIENT_ID" },
    "grace-period": { type: "string", valueHint: "SECONDS", description: "Keep the old secret valid this long, for a rolling deploy", default: "0" },
    ...destructiveArgs,
    ...outputArgs,
  },
  help: helpText({
    details: "The new secret is shown once. Without --grace-period the old secret stops working at once.\nAsks for confirmation on a terminal; scripts pass --confirm.",
    examples: [
      "# Regenerate a compromised secret\n$ authly admin client regenerate-secret <client-id>",
      "# Rolling rotation: the old secret keeps working for an hour\n$ authly admin client regenerate-secret <client-id> --grace-period 3600 --confirm --output json | jq -r .client_secret",
    ],
    json: '{ "client_id", "client_secret", "previous_secret_expires_at" }',
    security: "Regenerate at once when a secret may have leaked (no --grace-period). The new secret is shown once.",
  }),
  async run({ args }) {
    const grace = parseWhole(args["grace-period"], "--grace-period", 0, 30 * 86400)!;
    const ctx = createContext();
    const client = await loadClient(ctx, args.client_id);
    if (client.client_type === "public") throw new CliError("Public clients have no secret", ExitCode.validation, `Client '${inert(client.client_name)}' is public.`);
    const json = ctx.format(args.output) === "json";
    if (args["dry-run"]) {
      if (json) return printJson({ client_id: client.client_id, dry_run: true, grace_period_seconds: grace });
      console.log(`Dry run: would replace the secret of client '${inert(client.client_name)}' (${client.client_id}); the old secret would ${grace ? `stay valid for ${grace} s` : "stop working at once"}. Nothing was changed.`);
      return;
    }
    await confirmAction(`Regenerate the secret of client '${client.client_name}' (${client.client_id})? The old secret ${grace ? `stops working in ${grace} s` : "stops working at once"}.`, args);
    const res = await ctx.api.post<{ client_id: string; client_secret: string; previous_secret_expires_at: string | null }>(`${path(args.client_id)}/regenerate-secret`, {
      json: grace ? { grace_period_seconds: grace } : {},
      notFound: notFound(args.client_id),
    });
    if (json) return printJson(res);
    success("Client secret regenerated");
    console.log("");
    printFields([
      ["Client ID", res.client_id],
      ["Client Secret", res.client_secret],
      ["Previous secret", res.previous_secret_expires_at ? `valid until ${formatTime(res.previous_secret_expires_at)} UTC` : "revoked"],
    ]);
    console.log(`\n${SECRET_WARNING}`);
    if (!res.client_secret) note("Warning: the server returned no secret.");
  },
});

const registrationTokenCreate = defineAdminCommand({
  meta: { name: "create", description: "Create an initial access token for dynamic client registration (RFC 7591)." },
  args: {
    "expires-in": { type: "string", valueHint: "SECONDS", description: "How long it stays usable (60 to 7776000)", default: "86400" },
    "max-uses": { type: "string", valueHint: "INTEGER", description: "How many registrations it allows (1 to 10000)", default: "1" },
    ...outputArgs,
  },
  help: helpText({
    details: "With AUTHLY_REGISTRATION=token, a client registers at /oauth/register with this token as Bearer.\nThe token is shown once; only its hash is stored.",
    examples: ["$ authly admin client registration-token create --expires-in 3600 --max-uses 5", "$ authly admin client registration-token create --output json | jq -r .token"],
    json: '{ "id", "token", "expires_at", "max_uses" }',
    security: "The token is shown once: hand it to the developer over a secure channel.",
  }),
  async run({ args }) {
    const body = { expires_in: parseWhole(args["expires-in"], "--expires-in", 60, 7776000), max_uses: parseWhole(args["max-uses"], "--max-uses", 1, 10000) };
    const ctx = createContext();
    const res = await ctx.api.post<{ id: string; token: string; expires_at: string; max_uses: number }>("/admin/registration-tokens", { json: body });
    if (ctx.format(args.output) === "json") return printJson(res);
    success("Initial access token created");
    console.log("");
    printFields([["Token", res.token], ["Expires", `${formatTime(res.expires_at)} UTC`], ["Max uses", res.max_uses]]);
    console.log("\n⚠️  Save the token now - it cannot be retrieved again!");
  },
});

const registrationToken = {
  ...defineCommand({
    meta: { name: "registration-token", description: "Initial access tokens for dynamic client registration." },
    subCommands: { create: registrationTokenCreate },
  }),
  help: helpText({ examples: ["$ authly admin client registration-token create --expires-in 3600 --max-uses 5"] }),
} as CommandDef<any>;

export default defineCommand({
  meta: { name: "client", description: "Manage OAuth 2.1 clients." },
  subCommands: { create, list, show, update, delete: del, "regenerate-secret": regenerate, "registration-token": registrationToken },
});
