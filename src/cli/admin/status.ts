// `authly admin status`: the server's health, version, uptime, database pool, counts and admin API
// settings (GET /admin/status, docs/contracts.md), as the guide's "System Status" shows them.
import { describeMode } from "../../modes";
import { formatDuration, formatUtc, printJson } from "../output";
import { createContext } from "./context";
import { apiUrlArgs, defineAdminCommand, helpText, outputArgs } from "./shared";

interface Pool {
  min?: number;
  max?: number;
  size?: number;
  active?: number;
  idle?: number;
  connect_timeout_seconds?: number;
  idle_timeout_seconds?: number;
  [k: string]: unknown;
}

export interface SystemStatus {
  status: string;
  version: string;
  uptime_seconds: number;
  mode?: { name: string; pool?: Pool };
  /** connections: the server's sessions named 'authly' in pg_stat_activity (every worker and node); null when unknown. */
  database?: { status: string; latency_ms?: number; pool?: Pool; connections?: { open: number; active: number } | null };
  counts?: Record<string, number>;
  admin_api?: { enabled: boolean; url: string; localhost_only: boolean; rate_limit_per_minute: number };
  mail?: { enabled: boolean; from: string | null; outbox: { pending: number; failed: number; sent: number } };
  signup?: { mode: string; require_verified_email: boolean; open: boolean; invites: boolean; reason: string | null };
  timestamp?: string;
}

function cap(s: string | undefined): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : "Unknown";
}

export default defineAdminCommand({
  meta: { name: "status", description: "Show system status and configuration." },
  args: {
    verbose: { type: "boolean", alias: "v", description: "Show detailed information (modes, pools, all counts)" },
    ...apiUrlArgs,
    ...outputArgs,
  },
  help: helpText({
    examples: [
      "# Basic status\n$ authly admin status",
      "# Verbose status with details\n$ authly admin status --verbose",
      "# JSON output for monitoring\n$ authly admin status --output json | jq .status",
      "# Another resource mode for this command\n$ AUTHLY_MODE=production authly admin status --verbose",
    ],
    json: `The server's status document (GET /admin/status) plus "cli": { "api_url", "mode": { name, source, pool, bootstrap } }`,
  }),
  async run({ args }) {
    const ctx = createContext({ apiUrl: args["api-url"] });
    const st = await ctx.api.get<SystemStatus>("/admin/status");
    const m = ctx.config.mode;
    if (ctx.format(args.output) === "json") {
      return printJson({ ...st, cli: { api_url: ctx.apiUrl, mode: { name: m.mode, source: m.source, pool: m.pool, bootstrap: m.bootstrap } } });
    }
    const healthy = st.status === "healthy";
    const c = st.counts ?? {};
    const pool = st.database?.pool ?? {};
    console.log("Authly System Status\n");
    console.log(`${healthy ? "🟢" : "🔴"} System Health: ${cap(st.status)}`);
    console.log(`📊 Version: ${st.version}`);
    console.log(`⏱️  Uptime: ${formatDuration(st.uptime_seconds ?? 0)}`);
    console.log("\nDatabase:");
    console.log(`  Status: ${cap(st.database?.status)}`);
    console.log(`  Pool Size: ${pool.max ?? pool.size ?? st.mode?.pool?.max ?? "-"}`);
    // The guide's "Active Connections" (busy now, of the open ones) and the ping's latency.
    const conns = st.database?.connections;
    console.log(`  Active Connections: ${conns ? `${conns.active} (${conns.open} open)` : "-"}`);
    console.log(`  Latency: ${st.database?.latency_ms !== undefined ? `${st.database.latency_ms} ms` : "-"}`);
    console.log("\nOAuth Metrics:");
    console.log(`  Active Clients: ${c.active_clients ?? c.clients ?? "-"}`);
    console.log(`  Total Scopes: ${c.scopes ?? "-"}`);
    console.log(`  Active Tokens: ${c.active_tokens ?? "-"}`);
    if (args.verbose) {
      console.log(`  Total Clients: ${c.clients ?? "-"}`);
      console.log(`  Active Scopes: ${c.active_scopes ?? "-"}`);
      console.log(`  Users: ${c.users ?? "-"} (${c.active_users ?? "-"} active)`);
    }
    console.log("\nAdmin API:");
    console.log(`  Status: ${st.admin_api?.enabled === false ? "Disabled" : "Enabled"}`);
    console.log(`  URL: ${ctx.apiUrl}`);
    console.log(`  Rate Limit: ${st.admin_api?.rate_limit_per_minute ?? "-"} requests/minute`);
    if (args.verbose) {
      console.log(`  Localhost only: ${st.admin_api?.localhost_only ?? "-"}`);
      console.log("\nResource Modes:");
      const sp = st.mode?.pool;
      console.log(`  Server: mode=${st.mode?.name ?? "-"}${sp ? ` pool=${sp.min ?? "?"}-${sp.max ?? "?"} connect_timeout=${sp.connect_timeout_seconds ?? "?"}s idle=${sp.idle_timeout_seconds ?? "?"}s` : ""}`);
      console.log(`  CLI: ${describeMode(m)}`);
      if (Object.keys(pool).length) console.log(`  Database pool: ${Object.entries(pool).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    }
    if (st.mail) {
      console.log("\nMail:");
      console.log(st.mail.enabled ? `  Status: Enabled (from ${st.mail.from})` : "  Status: Not configured (set AUTHLY_SMTP_URL): password reset and email verification are not offered");
      console.log(`  Outbox: ${st.mail.outbox.pending} pending, ${st.mail.outbox.failed} failed, ${st.mail.outbox.sent} sent`);
    }
    if (st.signup) {
      console.log("\nSign-up:");
      const how = st.signup.open ? `Open${st.signup.require_verified_email ? " (address confirmed by mail first)" : " (no address confirmation)"}` : st.signup.invites ? "By invite only" : "Off";
      console.log(`  Status: ${how}`);
      if (st.signup.mode === "open" && !st.signup.open && st.signup.reason) console.log(`  Not offered: ${st.signup.reason}`);
    }
    console.log(`\nLast Updated: ${formatUtc(st.timestamp ?? new Date().toISOString())}`);
  },
});
