// `authly admin idp create|list|show|update|delete`: upstream identity providers (federation)
// through the admin API (/admin/idps). OpenID Connect providers by issuer (the server reads the
// discovery document under its outbound rules); plain OAuth 2.0 providers by explicit endpoints.
import { defineCommand } from "citty";
import { CLIENT_KEY_ALGS, UPSTREAM_AUTH_METHODS, type Idp } from "../../authn/upstream/model";
import { CliError, ExitCode } from "../../errors";
import { formatTime, printFields, printJson, printTable, success } from "../output";
import { createContext } from "./context";
import { confirmAction } from "./prompt";
import { collect, defineAdminCommand, destructiveArgs, flagPair, helpText, outputArgs } from "./shared";

const notFound = (slug: string) => ({ message: "Identity provider not found", detail: `Identity provider '${slug}' does not exist.` });
const path = (slug: string) => `/admin/idps/${encodeURIComponent(slug)}`;

function printIdp(p: Idp): void {
  printFields([
    ["Slug", p.slug],
    ["Name", p.name],
    ["Kind", p.kind === "oidc" ? "OpenID Connect" : "OAuth 2.0"],
    ["Issuer", p.issuer ?? "(none)"],
    ["Authorization endpoint", p.authorization_endpoint],
    ["Token endpoint", p.token_endpoint],
    ["Userinfo endpoint", p.userinfo_endpoint ?? "(none)"],
    ["JWKS URI", p.jwks_uri ?? "(none)"],
    ["Client ID", p.client_id],
    ["Client secret", p.has_client_secret ? "(set, encrypted)" : "(none)"],
    ["Token endpoint auth", p.token_endpoint_auth_method],
    ["Client key", p.client_key ? `${p.client_key.alg} ${p.client_key.kid}` : "(none)"],
    ["Scopes", p.scopes],
    ["Claim mapping", Object.entries(p.claim_mapping).map(([k, v]) => `${k}=${v}`)],
    ["Creates users", p.create_users],
    ["Status", p.is_enabled ? "enabled" : "disabled"],
    ["Redirect URI", p.redirect_uri],
    ["JWKS URL to register", p.client_jwks_uri ?? "(none: not private_key_jwt)"],
    ["Back-channel logout URI", p.backchannel_logout_uri ?? "(none: OpenID Connect providers only)"],
    ["Created", formatTime(p.created_at)],
    ["Updated", formatTime(p.updated_at)],
  ]);
}

/** --map FIELD=CLAIM, repeatable. */
function mappingOf(rawArgs: string[]): Record<string, string> | undefined {
  const values = collect(rawArgs, "map");
  if (!values.length) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0) throw new CliError(`Invalid --map: ${v}`, ExitCode.validation, "Use --map FIELD=CLAIM, e.g. --map subject=id --map username=login.");
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

const settingArgs = {
  "client-id": { type: "string", valueHint: "ID", description: "Our client_id at the provider" },
  "client-secret": { type: "string", valueHint: "SECRET", description: "Our client secret at the provider (stored encrypted, never shown again)" },
  scope: { type: "string", valueHint: "SCOPE", description: "A scope to ask the provider for (repeatable; replaces the list)" },
  map: { type: "string", valueHint: "FIELD=CLAIM", description: "Claim mapping (repeatable): subject, username, email, email_verified, name, given_name, family_name, picture, locale" },
  "create-users": { type: "boolean", description: "The first sign-in creates a local user (default)", negativeDescription: "Only linked accounts may sign in" },
  "auth-method": {
    type: "enum",
    options: [...UPSTREAM_AUTH_METHODS] as string[],
    description: "How we authenticate at the provider's token endpoint (default: client_secret_basic with a secret, none without)",
  },
  "key-alg": { type: "enum", options: [...CLIENT_KEY_ALGS] as string[], description: "private_key_jwt: algorithm of the provider's key pair (default RS256)" },
} as const;

function settingsBody(rawArgs: string[], args: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (typeof args["client-id"] === "string") body.client_id = args["client-id"];
  if (typeof args["client-secret"] === "string" && args["client-secret"]) body.client_secret = args["client-secret"];
  const scopes = collect(rawArgs, "scope");
  if (scopes.length) body.scopes = scopes;
  const mapping = mappingOf(rawArgs);
  if (mapping) body.claim_mapping = mapping;
  const create = flagPair(rawArgs, "create-users", "no-create-users");
  if (create !== undefined) body.create_users = create;
  if (typeof args["auth-method"] === "string") body.token_endpoint_auth_method = args["auth-method"];
  if (typeof args["key-alg"] === "string") body.client_key_alg = args["key-alg"];
  return body;
}

const create = defineAdminCommand({
  meta: { name: "create", description: "Register an upstream identity provider." },
  args: {
    slug: { type: "string", valueHint: "SLUG", description: "Short name (a-z, 0-9, -): in URLs and idp_hint" },
    name: { type: "string", valueHint: "TEXT", description: "Shown on the login button: Sign in with NAME" },
    issuer: { type: "string", valueHint: "URL", description: "OpenID Connect: the issuer (its discovery document gives the endpoints)" },
    "authorization-endpoint": { type: "string", valueHint: "URL", description: "Plain OAuth 2.0: the authorization endpoint" },
    "token-endpoint": { type: "string", valueHint: "URL", description: "Plain OAuth 2.0: the token endpoint" },
    "userinfo-endpoint": { type: "string", valueHint: "URL", description: "Plain OAuth 2.0: the endpoint answering the account's details" },
    disabled: { type: "boolean", description: "Register it disabled (no login button yet)" },
    ...settingArgs,
    ...outputArgs,
  },
  help: helpText({
    details: `Register the printed Redirect URI at the provider. With --issuer the provider is OpenID Connect;
with --authorization-endpoint/--token-endpoint/--userinfo-endpoint it is plain OAuth 2.0 and needs
--map subject=CLAIM (the userinfo field that names the account).
For an OpenID Connect provider that sends back-channel logout tokens, register the printed
Back-channel logout URI there. With --auth-method private_key_jwt the server makes a key pair for
this provider: register the printed JWKS URL (or its keys) at the provider instead of a secret.`,
    examples: [
      '$ authly admin idp create --slug corp --name "Corp SSO" --issuer https://sso.corp.example --client-id authly --client-secret "$SECRET"',
      '# private_key_jwt: no secret; register the printed JWKS URL at the provider\n$ authly admin idp create --slug okta --name Okta --issuer https://corp.okta.com --client-id 0oa1 --auth-method private_key_jwt',
      '# GitHub (plain OAuth 2.0)\n$ authly admin idp create --slug github --name GitHub --client-id Iv1.abc --client-secret "$SECRET" \\\n    --authorization-endpoint https://github.com/login/oauth/authorize \\\n    --token-endpoint https://github.com/login/oauth/access_token \\\n    --userinfo-endpoint https://api.github.com/user \\\n    --scope read:user --scope user:email --map subject=id --map username=login',
    ],
    json: "The provider (never the client secret).",
    security: "The client secret and the private key are stored encrypted (AES-256-GCM) and never shown.",
  }),
  async run({ args, rawArgs }) {
    if (!args.slug) throw new CliError("Missing required argument: --slug", ExitCode.validation);
    if (!args.name) throw new CliError("Missing required argument: --name", ExitCode.validation);
    if (!args["client-id"]) throw new CliError("Missing required argument: --client-id", ExitCode.validation);
    const oauth2 = Boolean(args["authorization-endpoint"] || args["token-endpoint"] || args["userinfo-endpoint"]);
    if (oauth2 === Boolean(args.issuer)) throw new CliError("Give --issuer (OpenID Connect) or the three endpoints (plain OAuth 2.0)", ExitCode.validation);
    const body: Record<string, unknown> = { slug: args.slug, name: args.name, kind: oauth2 ? "oauth2" : "oidc", ...settingsBody(rawArgs, args) };
    if (args.issuer) body.issuer = args.issuer;
    if (args["authorization-endpoint"]) body.authorization_endpoint = args["authorization-endpoint"];
    if (args["token-endpoint"]) body.token_endpoint = args["token-endpoint"];
    if (args["userinfo-endpoint"]) body.userinfo_endpoint = args["userinfo-endpoint"];
    if (args.disabled) body.is_enabled = false;
    const ctx = createContext();
    const res = await ctx.api.post<Idp>("/admin/idps", { json: body });
    if (ctx.format(args.output) === "json") return printJson(res);
    success("Identity provider registered");
    console.log("");
    printIdp(res);
  },
});

const list = defineAdminCommand({
  meta: { name: "list", description: "List upstream identity providers." },
  args: { ...outputArgs },
  help: helpText({ examples: ["$ authly admin idp list"], json: '{ "idps": [ {provider}, ... ], "total": N }' }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.get<{ idps: Idp[]; total: number }>("/admin/idps");
    if (ctx.format(args.output) === "json") return printJson(res);
    if (res.idps.length) printTable(["Slug", "Name", "Kind", "Issuer", "Status"], res.idps.map((p) => [p.slug, p.name, p.kind, p.issuer ?? "", p.is_enabled ? "enabled" : "disabled"]));
    else console.log("No identity providers found.");
    console.log(`\nTotal: ${res.total} provider${res.total === 1 ? "" : "s"}`);
  },
});

const show = defineAdminCommand({
  meta: { name: "show", description: "Show one upstream identity provider." },
  args: { slug: { type: "positional", required: true, description: "Provider slug", valueHint: "SLUG" }, ...outputArgs },
  help: helpText({ examples: ["$ authly admin idp show corp"], json: "The provider (never the client secret)." }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.get<Idp>(path(args.slug), { notFound: notFound(args.slug) });
    if (ctx.format(args.output) === "json") return printJson(res);
    printIdp(res);
  },
});

const update = defineAdminCommand({
  meta: { name: "update", description: "Update an upstream identity provider." },
  args: {
    slug: { type: "positional", required: true, description: "Provider slug", valueHint: "SLUG" },
    name: { type: "string", valueHint: "TEXT", description: "New button name" },
    enable: { type: "boolean", description: "Show it on the login page" },
    disable: { type: "boolean", description: "Hide it; its sign-ins stop" },
    "rotate-key": { type: "boolean", description: "private_key_jwt: a new key pair (the provider must fetch the JWKS URL again)" },
    ...settingArgs,
    ...outputArgs,
  },
  help: helpText({
    examples: [
      "$ authly admin idp update corp --disable",
      "$ authly admin idp update github --map subject=id --map username=login --map email=email",
      "$ authly admin idp update corp --auth-method private_key_jwt --key-alg ES256",
      "$ authly admin idp update corp --rotate-key",
    ],
    json: "The updated provider.",
  }),
  async run({ args, rawArgs }) {
    const body = settingsBody(rawArgs, args);
    if (args.name !== undefined) body.name = args.name;
    const enabled = flagPair(rawArgs, "enable", "disable");
    if (enabled !== undefined) body.is_enabled = enabled;
    if (args["rotate-key"]) body.rotate_client_key = true;
    if (!Object.keys(body).length) throw new CliError("Nothing to update", ExitCode.validation, "Pass at least one option to change; see --help.");
    const ctx = createContext();
    const res = await ctx.api.patch<Idp>(path(args.slug), { json: body, notFound: notFound(args.slug) });
    if (ctx.format(args.output) === "json") return printJson(res);
    success("Identity provider updated");
    console.log("");
    printIdp(res);
  },
});

const del = defineAdminCommand({
  meta: { name: "delete", description: "Delete an upstream identity provider and its linked identities." },
  args: { slug: { type: "positional", required: true, description: "Provider slug", valueHint: "SLUG" }, ...destructiveArgs, ...outputArgs },
  help: helpText({
    details: "Asks for confirmation on a terminal; scripts pass --confirm. Users stay; accounts without a password can then no longer sign in (an admin can reset their password).",
    examples: ["$ authly admin idp delete corp --confirm"],
    json: '{ "slug", "deleted": true }  (dry run: { "slug", "dry_run": true })',
  }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.get<Idp>(path(args.slug), { notFound: notFound(args.slug) });
    const json = ctx.format(args.output) === "json";
    if (args["dry-run"]) {
      if (json) return printJson({ slug: res.slug, dry_run: true });
      console.log(`Dry run: would delete identity provider '${res.slug}'. Nothing was changed.`);
      return;
    }
    await confirmAction(`Delete identity provider '${res.slug}' and every identity linked through it?`, args);
    const out = await ctx.api.delete<{ slug: string; deleted: boolean }>(path(args.slug), { notFound: notFound(args.slug) });
    if (json) return printJson(out);
    success(`Identity provider '${res.slug}' deleted`);
  },
});

export default defineCommand({
  meta: { name: "idp", description: "Manage upstream identity providers (federation)." },
  subCommands: { create, list, show, update, delete: del },
});
