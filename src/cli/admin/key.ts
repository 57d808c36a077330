// `authly admin key list|rotate|revoke`: the server's signing keys (JWKS) through the admin API
// (/admin/keys, docs/contracts.md).
import { defineCommand } from "citty";
import { CliError, ExitCode } from "../../errors";
import { formatTime, printJson, printTable, success } from "../output";
import { createContext } from "./context";
import { confirmAction } from "./prompt";
import { defineAdminCommand, destructiveArgs, helpText, outputArgs } from "./shared";

export interface SigningKey {
  kid: string;
  alg: string;
  state: string;
  created_at: string | null;
  activated_at: string | null;
  retired_at: string | null;
  publish_until: string | null;
}

const ALGS = ["RS256", "ES256", "EdDSA"];

const list = defineAdminCommand({
  meta: { name: "list", description: "List signing keys (active, next, retired)." },
  args: { ...outputArgs },
  help: helpText({
    details: "active: signs new tokens; next: published ahead of rotation; retired: still published until its tokens expire.",
    examples: ["$ authly admin key list", "$ authly admin key list --output json | jq -r '.keys[] | select(.state==\"active\") | .kid'"],
    json: '{ "keys": [ { "kid", "alg", "state", "created_at", "activated_at", "retired_at", "publish_until" } ], "total": N }',
  }),
  async run({ args }) {
    const ctx = createContext();
    const res = await ctx.api.get<{ keys: SigningKey[] }>("/admin/keys");
    if (ctx.format(args.output) === "json") return printJson({ keys: res.keys, total: res.keys.length });
    if (res.keys.length) {
      printTable(
        ["Key ID", "Algorithm", "State", "Created", "Activated", "Retired", "Published until"],
        res.keys.map((k) => [k.kid, k.alg, k.state, formatTime(k.created_at), formatTime(k.activated_at), formatTime(k.retired_at), formatTime(k.publish_until)]),
      );
    } else console.log("No signing keys.");
    const active = res.keys.filter((k) => k.state === "active").length;
    console.log(`\nTotal: ${res.keys.length} key${res.keys.length === 1 ? "" : "s"} (${active} active)`);
  },
});

const rotate = defineAdminCommand({
  meta: { name: "rotate", description: "Rotate the signing keys: the next key becomes active." },
  args: {
    alg: { type: "enum", options: ALGS, description: "Rotate only this algorithm (default: every configured algorithm)" },
    ...destructiveArgs,
    ...outputArgs,
  },
  help: helpText({
    details: "Tokens signed with the old key stay valid: it stays published (retired) until they expire.\nAsks for confirmation on a terminal; scripts pass --confirm.",
    examples: ["$ authly admin key rotate", "$ authly admin key rotate --alg ES256 --dry-run", "$ authly admin key rotate --confirm --output json"],
    json: '{ "rotated": [ { "alg", "activated", "next", "retired": [...] } ] }  (dry run: { "dry_run": true, "keys": [...] })',
  }),
  async run({ args }) {
    const ctx = createContext();
    const json = ctx.format(args.output) === "json";
    const current = await ctx.api.get<{ keys: SigningKey[] }>("/admin/keys");
    const active = current.keys.filter((k) => k.state === "active" && (!args.alg || k.alg === args.alg));
    const what = args.alg ? `the ${args.alg} signing key` : `the signing keys (${[...new Set(active.map((k) => k.alg))].join(", ") || "all algorithms"})`;
    if (args["dry-run"]) {
      if (json) return printJson({ dry_run: true, alg: args.alg ?? null, keys: active });
      console.log(`Dry run: would rotate ${what}; active now: ${active.map((k) => `${k.kid} (${k.alg})`).join(", ") || "none"}. Nothing was changed.`);
      return;
    }
    await confirmAction(`Rotate ${what}?`, args);
    const res = await ctx.api.post<{ rotated: { alg: string; activated: string; next: string; retired: string[] }[] }>("/admin/keys/rotate", { json: args.alg ? { alg: args.alg } : {} });
    if (json) return printJson(res);
    success("Signing keys rotated");
    for (const r of res.rotated) console.log(`  ${r.alg}: active ${r.activated}, next ${r.next}${r.retired?.length ? `, retired ${r.retired.join(", ")}` : ""}`);
  },
});

const revoke = defineAdminCommand({
  meta: { name: "revoke", description: "Revoke a compromised signing key: its tokens stop working at once." },
  args: {
    kid: { type: "positional", required: true, description: "Key ID (kid), as `key list` shows it", valueHint: "KID" },
    ...destructiveArgs,
    ...outputArgs,
  },
  help: helpText({
    details:
      "The key leaves the JWKS and every token it signed is refused on every node (introspection, UserInfo, admin API, id_token_hint).\n" +
      "Revoking the active key first makes its algorithm's next key active (already published), so signing goes on; users and\n" +
      "clients holding tokens of the revoked key must sign in or fetch tokens again. Cannot be undone.\n" +
      "Asks for confirmation on a terminal; scripts pass --confirm. Exit codes: 4 no such key, 5 already revoked.",
    examples: ["$ authly admin key revoke 3xJ2...Qk --dry-run", "$ authly admin key revoke 3xJ2...Qk --confirm --output json"],
    json: '{ "kid", "alg", "previous_state", "activated", "next" }  (dry run: { "dry_run": true, "key": {...}, "activates": KID|null })',
  }),
  async run({ args }) {
    const ctx = createContext();
    const json = ctx.format(args.output) === "json";
    const current = await ctx.api.get<{ keys: SigningKey[] }>("/admin/keys");
    const key = current.keys.find((k) => k.kid === args.kid);
    if (!key) throw new CliError(`Signing key not found: ${args.kid}`, ExitCode.notFound, "List the keys with `authly admin key list`.");
    if (key.state === "revoked") throw new CliError(`The signing key ${args.kid} is already revoked`, ExitCode.validation, "Nothing was changed.");
    const activates = key.state === "active" ? (current.keys.find((k) => k.alg === key.alg && k.state === "next")?.kid ?? null) : null;
    const consequence = key.state === "active" ? `it is the active ${key.alg} key: ${activates ?? "a new key"} becomes active in its place; ` : "";
    if (args["dry-run"]) {
      if (json) return printJson({ dry_run: true, key, activates });
      console.log(`Dry run: would revoke ${key.kid} (${key.alg}, ${key.state}); ${consequence}every token it signed would be refused. Nothing was changed.`);
      return;
    }
    await confirmAction(`Revoke the ${key.state} ${key.alg} key ${key.kid}? ${consequence}every token it signed stops working.`, args);
    const res = await ctx.api.post<{ kid: string; alg: string; previous_state: string; activated: string | null; next: string | null }>(`/admin/keys/${encodeURIComponent(args.kid)}/revoke`, {
      json: {},
      notFound: { message: `Signing key not found: ${args.kid}`, detail: "List the keys with `authly admin key list`." },
    });
    if (json) return printJson(res);
    success(`Signing key ${res.kid} revoked`);
    if (res.activated) console.log(`  ${res.alg}: active ${res.activated}${res.next ? `, next ${res.next}` : ""}`);
    else if (res.next) console.log(`  ${res.alg}: new next key ${res.next}`);
  },
});

export default defineCommand({
  meta: { name: "key", description: "Manage signing keys." },
  subCommands: { list, rotate, revoke },
});
