// `authly admin resource create|list|show|update|delete`: API resources (RFC 8707) through the
// admin API (/admin/resources). `create --from-metadata URL` registers a resource from its
// protected resource metadata (RFC 9728), fetched by the server under its outbound rules.
import { defineCommand } from "citty";
import type { Resource as ApiResource } from "../../resources/model";
import { CliError, ExitCode } from "../../errors";
import { formatTime, printFields, printJson, printTable, success } from "../output";
import { SECRET_WARNING } from "./client-common";
import { createContext } from "./context";
import { confirmAction } from "./prompt";
import { collect, defineAdminCommand, destructiveArgs, flagPair, helpText, outputArgs, parseWhole } from "./shared";

type Resource = ApiResource & { client_secret?: string };

const notFound = (id: string) => ({ message: "Resource not found", detail: `Resource '${id}' does not exist or has been deleted.` });
const path = (id: string) => `/admin/resources/${encodeURIComponent(id)}`;
const ALGS = ["RS256", "ES256", "EdDSA"];

function printResource(r: Resource): void {
  printFields([
    ["Identifier", r.identifier],
    ...(r.client_secret ? ([["Client Secret", r.client_secret]] as [string, unknown][]) : []),
    ["Name", r.name],
    ["Scopes", r.scopes.map((s) => s.name)],
    ["Access token lifetime", r.access_token_ttl === null ? "(client or server default)" : `${r.access_token_ttl} s`],
    ["Access token algorithm", r.access_token_alg ?? "(server default)"],
    ["May introspect", r.may_introspect],
    ["Any client", r.allow_any_client],
    ["Credentials client ID", r.client_id],
    ["Status", r.is_active ? "active" : "inactive"],
    ["Created", formatTime(r.created_at)],
    ["Updated", formatTime(r.updated_at)],
  ]);
}

/** --scope NAME or NAME=DESCRIPTION, repeatable. */
function scopesOf(rawArgs: string[]): { name: string; description?: string }[] | undefined {
  const values = collect(rawArgs, "scope");
  if (!values.length) return undefined;
  return values.map((v) => {
    const i = v.indexOf("=");
    return i < 0 ? { name: v } : { name: v.slice(0, i), description: v.slice(i + 1) };
  });
}

const settingArgs = {
  scope: { type: "string", valueHint: "NAME[=DESCRIPTION]", description: "A scope of this resource (repeatable; replaces the list)" },
  "token-ttl": { type: "string", valueHint: "SECONDS", description: 'Access-token lifetime for this resource (30-86400; "" for the default)' },
  alg: { type: "string", valueHint: "ALG", description: `Signing algorithm of its access tokens: ${ALGS.join(", ")} ("" for the default)` },
  introspect: { type: "boolean", description: "The resource server may introspect its tokens (default: yes)", negativeDescription: "It may not introspect" },
  "any-client": { type: "boolean", description: "Every client may ask tokens for it (e.g. an MCP server for self-registered agents)", negativeDescription: "Only clients allowed it (client update --resource)" },
} as const;

function settingsBody(rawArgs: string[], args: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const scopes = scopesOf(rawArgs);
  if (scopes) body.scopes = scopes;
  if (typeof args["token-ttl"] === "string") body.access_token_ttl = args["token-ttl"] === "" ? null : parseWhole(args["token-ttl"], "--token-ttl", 30, 86400);
  if (typeof args.alg === "string") {
    if (args.alg !== "" && !ALGS.includes(args.alg)) throw new CliError(`Unknown algorithm: ${args.alg}`, ExitCode.validation, `Use one of: ${ALGS.join(", ")}.`);
    body.access_token_alg = args.alg === "" ? null : args.alg;
  }
  const introspect = flagPair(rawArgs, "introspect", "no-introspect");
  if (introspect !== undefined) body.may_introspect = introspect;
  const any = flagPair(rawArgs, "any-client", "no-any-client");
  if (any !== undefined) body.allow_any_client = any;
  return body;
}

const create = defineAdminCommand({
  meta: { name: "create", description: "Register an API resource (the audience of access tokens)." },
  args: {
    identifier: { type: "string", valueHint: "URI", description: "Absolute URI without fragment (RFC 8707 §2), e.g. https://api.example.com" },
    name: { type: "string", valueHint: "TEXT", description: "Display name (shown on the consent page)" },
    "from-metadata": { type: "string", valueHint: "URL", description: "Register from the resource's protected resource metadata (RFC 9728): its identifier or metadata URL" },
    "auth-method": { type: "enum", options: ["client_secret_basic", "client_secret_post", "private_key_jwt"], description: "How the resource server authenticates to introspect (default: client_secret_basic)" },
    "jwks-uri": { type: "string", valueHint: "URL", description: "The resource server's keys (private_key_jwt)" },
    ...settingArgs,
    ...outputArgs,
  },
  help: helpText({
    details: `A resource server authenticates with the client_id and secret shown once here
(or private_key_jwt with --jwks-uri) to introspect the tokens issued for it.
Allow clients with \`authly admin client update <id> --resource URI\`.`,
    examples: [
      '$ authly admin resource create --identifier https://api.example.com --name "Orders API" \\\n    --scope orders:read="Read your orders" --scope orders:write',
      "# From the metadata the resource server publishes (RFC 9728)\n$ authly admin resource create --from-metadata https://mcp.example.com/mcp",
    ],
    json: "The resource plus \"client_secret\" (shown once).",
    security: "The secret is shown once and stored only as a hash.",
  }),
  async run({ args, rawArgs }) {
    const ctx = createContext();
    let res: Resource;
    if (args["from-metadata"]) {
      if (args.identifier) throw new CliError("Give --identifier or --from-metadata, not both", ExitCode.validation);
      res = await ctx.api.post<Resource>("/admin/resources/from-metadata", { json: { url: args["from-metadata"], ...(args.name ? { name: args.name } : {}) } });
    } else {
      if (!args.identifier) throw new CliError("Missing required argument: --identifier", ExitCode.validation, "Or register from metadata with --from-metadata URL.");
      if (!args.name) throw new CliError("Missing required argument: --name", ExitCode.validation);
      const body: Record<string, unknown> = { identifier: args.identifier, name: args.name, ...settingsBody(rawArgs, args) };
      if (args["auth-method"]) body.token_endpoint_auth_method = args["auth-method"];
      if (args["jwks-uri"]) body.jwks_uri = args["jwks-uri"];
      res = await ctx.api.post<Resource>("/admin/resources", { json: body });
    }
    if (ctx.format(args.output) === "json") return printJson(res);
    success("Resource created successfully");
    console.log("");
    printResource(res);
    if (res.client_secret) console.log(`\n${SECRET_WARNING}`);
  },
});

const list = defineAdminCommand({
  meta: { name: "list", description: "List API resources." },
  args: { "show-inactive": { type: "boolean", description: "Include inactive resources" }, ...outputArgs },
  help: helpText({ examples: ["$ authly admin resource list", "$ authly admin resource list --output json | jq -r '.resources[].identifier'"], json: '{ "resources": [ {resource}, ... ], "total": N }' }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.get<{ resources: Resource[]; total: number }>("/admin/resources", { query: { include_inactive: args["show-inactive"] ? true : undefined } });
    if (ctx.format(args.output) === "json") return printJson(res);
    if (res.resources.length) printTable(["Identifier", "Name", "Scopes", "Status"], res.resources.map((r) => [r.identifier, r.name, r.scopes.map((s) => s.name).join(" "), r.is_active ? "active" : "inactive"]));
    else console.log("No resources found.");
    console.log(`\nTotal: ${res.total} resource${res.total === 1 ? "" : "s"}`);
  },
});

const show = defineAdminCommand({
  meta: { name: "show", description: "Show one API resource." },
  args: { identifier: { type: "positional", required: true, description: "Resource identifier", valueHint: "URI" }, ...outputArgs },
  help: helpText({ examples: ["$ authly admin resource show https://api.example.com"], json: "The resource object." }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.get<Resource>(path(args.identifier), { notFound: notFound(args.identifier) });
    if (ctx.format(args.output) === "json") return printJson(res);
    printResource(res);
  },
});

const update = defineAdminCommand({
  meta: { name: "update", description: "Update an API resource." },
  args: {
    identifier: { type: "positional", required: true, description: "Resource identifier", valueHint: "URI" },
    name: { type: "string", valueHint: "TEXT", description: "New display name" },
    ...settingArgs,
    activate: { type: "boolean", description: "Reactivate an inactive resource" },
    deactivate: { type: "boolean", description: "Deactivate the resource (no new tokens for it)" },
    ...outputArgs,
  },
  help: helpText({ examples: ["$ authly admin resource update https://api.example.com --scope orders:read --alg EdDSA", "$ authly admin resource update https://api.example.com --no-introspect"], json: "The updated resource." }),
  async run({ args, rawArgs }) {
    const body = settingsBody(rawArgs, args);
    if (args.name !== undefined) body.name = args.name;
    const active = flagPair(rawArgs, "activate", "deactivate");
    if (active !== undefined) body.is_active = active;
    if (!Object.keys(body).length) throw new CliError("Nothing to update", ExitCode.validation, "Pass at least one option to change; see --help.");
    const ctx = createContext();
    const res = await ctx.api.patch<Resource>(path(args.identifier), { json: body, notFound: notFound(args.identifier) });
    if (ctx.format(args.output) === "json") return printJson(res);
    success("Resource updated successfully");
    console.log("");
    printResource(res);
  },
});

const del = defineAdminCommand({
  meta: { name: "delete", description: "Delete (deactivate) an API resource." },
  args: {
    identifier: { type: "positional", required: true, description: "Resource identifier", valueHint: "URI" },
    hard: { type: "boolean", description: "Remove it for good (and from every client) instead of deactivating it" },
    ...destructiveArgs,
    ...outputArgs,
  },
  help: helpText({
    details: "Asks for confirmation on a terminal; scripts pass --confirm. Tokens already issued for it stay valid until they expire.",
    examples: ["$ authly admin resource delete https://api.example.com --confirm", "$ authly admin resource delete https://api.example.com --hard --confirm"],
    json: '{ "identifier", "deleted": "soft" | "hard" }  (dry run: { "identifier", "dry_run": true })',
  }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.get<Resource>(path(args.identifier), { notFound: notFound(args.identifier) });
    const json = ctx.format(args.output) === "json";
    if (args["dry-run"]) {
      if (json) return printJson({ identifier: res.identifier, dry_run: true });
      console.log(`Dry run: would delete resource '${res.identifier}'. Nothing was changed.`);
      return;
    }
    await confirmAction(`Delete resource '${res.identifier}'${args.hard ? " for good" : ""}?`, args);
    const out = await ctx.api.delete<{ identifier: string; deleted: string }>(path(args.identifier), { query: { hard: args.hard ? true : undefined }, notFound: notFound(args.identifier) });
    if (json) return printJson(out);
    success(`Resource '${res.identifier}' deleted${out.deleted === "soft" ? " (deactivated)" : ""}`);
  },
});

export default defineCommand({
  meta: { name: "resource", description: "Manage API resources (RFC 8707)." },
  subCommands: { create, list, show, update, delete: del },
});
