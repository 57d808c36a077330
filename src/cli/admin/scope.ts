// `authly admin scope create|list|show|update|delete|defaults`: OAuth scopes through the admin API
// (/admin/scopes, docs/contracts.md).
import { defineCommand } from "citty";
import { CliError, ExitCode } from "../../errors";
import { formatTime, printFields, printJson, printTable, success } from "../output";
import { createContext, type AdminContext } from "./context";
import { confirmAction } from "./prompt";
import { defineAdminCommand, destructiveArgs, flagPair, helpText, outputArgs } from "./shared";

export interface Scope {
  name: string;
  description: string;
  is_default: boolean;
  is_active: boolean;
  is_system: boolean;
  created_at: string;
  updated_at: string;
}

const notFound = (name: string) => ({ message: "Scope not found", detail: `Scope '${name}' does not exist or has been deleted: create it with \`authly admin scope create --name ${name} --description "..."\` (all scopes: \`authly admin scope list\`).` });
const path = (name: string) => `/admin/scopes/${encodeURIComponent(name)}`;

function printScope(s: Scope): void {
  printFields([
    ["Name", s.name],
    ["Description", s.description],
    ["Default", s.is_default],
    ["System", s.is_system],
    ["Status", s.is_active ? "active" : "inactive"],
    ["Created", formatTime(s.created_at)],
    ["Updated", formatTime(s.updated_at)],
  ]);
}

function printScopeTable(ctx: AdminContext, scopes: Scope[]): void {
  const ts = ctx.settings.output.showTimestamps;
  printTable(
    ["Name", "Description", "Default", "Status", ...(ts ? ["Created"] : [])],
    scopes.map((s) => [s.name, s.description ?? "", s.is_default ? "Yes" : "No", s.is_active ? "active" : "inactive", ...(ts ? [formatTime(s.created_at)] : [])]),
  );
}

const create = defineAdminCommand({
  meta: { name: "create", description: "Create a new OAuth scope." },
  args: {
    name: { type: "string", valueHint: "TEXT", description: "Scope name (e.g. 'read', 'write', 'profile')", required: true },
    description: { type: "string", valueHint: "TEXT", description: "Human-readable description", required: true },
    default: { type: "boolean", description: "Make this a default scope (assigned automatically)" },
    ...outputArgs,
  },
  help: helpText({
    examples: [
      '# Basic scope\n$ authly admin scope create \\\n    --name "read" \\\n    --description "Read access to user data"',
      '# Default scope\n$ authly admin scope create \\\n    --name "profile" \\\n    --description "Access to user profile information" \\\n    --default',
    ],
    json: "The scope: { name, description, is_default, is_active, is_system, created_at, updated_at }",
  }),
  async run({ args }) {
    const ctx = createContext();
    const scope = await ctx.api.post<Scope>("/admin/scopes", { json: { name: args.name, description: args.description, is_default: Boolean(args.default) } });
    if (ctx.format(args.output) === "json") return printJson(scope);
    success("Scope created successfully");
    console.log("");
    printFields([
      ["Name", scope.name],
      ["Description", scope.description],
      ["Default", scope.is_default],
      ["Status", scope.is_active === false ? "inactive" : "active"],
    ]);
  },
});

const list = defineAdminCommand({
  meta: { name: "list", description: "List OAuth scopes." },
  args: {
    "show-inactive": { type: "boolean", description: "Include inactive scopes" },
    ...outputArgs,
  },
  help: helpText({
    examples: [
      "# List active scopes\n$ authly admin scope list",
      "# Include inactive scopes\n$ authly admin scope list --show-inactive",
      "# JSON output\n$ authly admin scope list --output json | jq -r '.scopes[].name'",
    ],
    json: '{ "scopes": [ {scope}, ... ], "total": N }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.get<{ scopes: Scope[]; total: number }>("/admin/scopes", { query: { include_inactive: args["show-inactive"] ? true : undefined } });
    if (ctx.format(args.output) === "json") return printJson({ scopes: res.scopes, total: res.total ?? res.scopes.length });
    if (res.scopes.length) printScopeTable(ctx, res.scopes);
    else console.log("No scopes found.");
    const active = res.scopes.filter((s) => s.is_active).length;
    const defaults = res.scopes.filter((s) => s.is_default).length;
    const total = res.total ?? res.scopes.length;
    console.log(`\nTotal: ${total} scope${total === 1 ? "" : "s"} (${active} active, ${defaults} default)`);
  },
});

const show = defineAdminCommand({
  meta: { name: "show", description: "Show one scope." },
  args: { name: { type: "positional", required: true, description: "Scope name", valueHint: "NAME" }, ...outputArgs },
  help: helpText({ examples: ["$ authly admin scope show read", "$ authly admin scope show read --output json"], json: "The scope object." }),
  async run({ args }) {
    const ctx = createContext();
    const scope = await ctx.api.get<Scope>(path(args.name), { notFound: notFound(args.name) });
    if (ctx.format(args.output) === "json") return printJson(scope);
    printScope(scope);
  },
});

const update = defineAdminCommand({
  meta: { name: "update", description: "Update a scope's description, default flag or status." },
  args: {
    name: { type: "positional", required: true, description: "Scope name", valueHint: "NAME" },
    description: { type: "string", valueHint: "TEXT", description: "New description" },
    default: { type: "boolean", description: "Make it a default scope", negativeDescription: "Make it a non-default scope" },
    activate: { type: "boolean", description: "Reactivate an inactive scope" },
    deactivate: { type: "boolean", description: "Deactivate the scope" },
    ...outputArgs,
  },
  help: helpText({
    examples: ['$ authly admin scope update read --description "Read access to everything"', "$ authly admin scope update profile --no-default", "$ authly admin scope update legacy --deactivate"],
    json: "The updated scope object.",
  }),
  async run({ args, rawArgs }) {
    const body: Record<string, unknown> = {};
    if (args.description !== undefined) body.description = args.description;
    const def = flagPair(rawArgs, "default", "no-default");
    if (def !== undefined) body.is_default = def;
    const active = flagPair(rawArgs, "activate", "deactivate");
    if (active !== undefined) body.is_active = active;
    if (!Object.keys(body).length) throw new CliError("Nothing to update", ExitCode.validation, "Pass --description, --default/--no-default or --activate/--deactivate.");
    const ctx = createContext();
    const scope = await ctx.api.patch<Scope>(path(args.name), { json: body, notFound: notFound(args.name) });
    if (ctx.format(args.output) === "json") return printJson(scope);
    success("Scope updated successfully");
    console.log("");
    printScope(scope);
  },
});

const del = defineAdminCommand({
  meta: { name: "delete", description: "Delete (deactivate) a scope." },
  args: {
    name: { type: "positional", required: true, description: "Scope name", valueHint: "NAME" },
    ...destructiveArgs,
    ...outputArgs,
  },
  help: helpText({
    details: "Asks for confirmation on a terminal; scripts pass --confirm. System scopes (openid, admin:*) cannot be deleted.",
    examples: ["$ authly admin scope delete legacy", "$ authly admin scope delete legacy --dry-run", "$ authly admin scope delete legacy --confirm"],
    json: '{ "name", "deleted": "soft" | "hard" }  (dry run: { "name", "dry_run": true })',
  }),
  async run({ args }) {
    const ctx = createContext();
    const scope = await ctx.api.get<Scope>(path(args.name), { notFound: notFound(args.name) });
    const json = ctx.format(args.output) === "json";
    if (args["dry-run"]) {
      if (json) return printJson({ name: scope.name, dry_run: true });
      console.log(`Dry run: would delete scope '${scope.name}'. Nothing was changed.`);
      return;
    }
    await confirmAction(`Delete scope '${scope.name}'?`, args);
    const res = await ctx.api.delete<{ name: string; deleted: string }>(path(args.name), { notFound: notFound(args.name) });
    if (json) return printJson(res);
    success(`Scope '${scope.name}' deleted${res.deleted === "soft" ? " (deactivated)" : ""}`);
  },
});

const defaults = defineAdminCommand({
  meta: { name: "defaults", description: "List the default scopes (granted automatically)." },
  args: { ...outputArgs },
  help: helpText({ examples: ["$ authly admin scope defaults", "$ authly admin scope defaults --output json"], json: '{ "scopes": [ {scope}, ... ], "total": N }' }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.get<{ scopes: Scope[]; total: number }>("/admin/scopes/defaults");
    if (ctx.format(args.output) === "json") return printJson({ scopes: res.scopes, total: res.total ?? res.scopes.length });
    if (res.scopes.length) printScopeTable(ctx, res.scopes);
    else console.log("No default scopes.");
    const total = res.total ?? res.scopes.length;
    console.log(`\nTotal: ${total} default scope${total === 1 ? "" : "s"}`);
  },
});

export default defineCommand({
  meta: { name: "scope", description: "Manage OAuth scopes." },
  subCommands: { create, list, show, update, delete: del, defaults },
});
