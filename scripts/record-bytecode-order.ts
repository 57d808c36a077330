// `bun run build:order`: records the bytecode-order profiles the release build lays the executable
// out by (build.ts BYTECODE_ORDER): builds the host binary, runs `authly serve` (production mode, a
// fresh schema of DATABASE_URL) with BUN_BYTECODE_ORDER_OUT while it starts and answers the hot
// requests (discovery, JWKS, client_credentials, introspection, refresh rotation, the login page),
// then `authly admin --help`; writes scripts/bytecode-order/serve.txt and cli.txt and builds again
// with them. Run it again after large changes to the server's start or hot paths (a stale profile
// still works, it only helps less).
//
//   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test bun run build:order
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { binaryPath, buildTarget, BYTECODE_ORDER, hostTarget } from "../build";
import { startBenchServer } from "../bench/load-support";
import { createOidcClient } from "../test/support/oidc-fixtures";
import { issueAccessToken } from "../src/tokens/access-token";
import { hashToken } from "../src/tokens/service";
import { randomToken } from "../src/lib/crypto";

const [SERVE_ORDER, CLI_ORDER] = BYTECODE_ORDER as [string, string];

async function build(): Promise<string> {
  const r = await buildTarget(hostTarget(), { quiet: true });
  if (!r.ok) throw new Error(`build failed: ${r.error}`);
  return binaryPath();
}

const bin = await build();
const tmp = mkdtempSync(join(tmpdir(), "authly-order-"));
mkdirSync(dirname(SERVE_ORDER), { recursive: true });

// The server: start, fixtures, a few seconds of the requests every deployment answers.
process.env.BENCH_AUTHLY_BIN = bin;
const serveOut = join(tmp, "serve.txt");
const server = await startBenchServer({ BUN_BYTECODE_ORDER_OUT: serveOut });
try {
  const { deps, sql, url } = server;
  await sql`INSERT INTO scopes (name, description) VALUES ('api:read', 'order') ON CONFLICT DO NOTHING`;
  const rp = await createOidcClient(deps, { grant_types: ["authorization_code", "refresh_token", "client_credentials"], scopes: ["openid", "offline_access", "api:read"] });
  const basic = `Basic ${btoa(`${encodeURIComponent(rp.client_id)}:${encodeURIComponent(rp.client_secret!)}`)}`;
  const [user] = await sql<{ id: string }[]>`INSERT INTO users (username) VALUES ('order-user') RETURNING id`;
  const access = (await issueAccessToken(deps, { clientId: rp.client_id, sub: user!.id, userId: user!.id, scope: "openid", ttlSeconds: 3600 })).token;
  const [g] = await sql<{ id: string }[]>`INSERT INTO grants (client_id, user_id, grant_type, scope, expires_at) VALUES (${rp.client_id}, ${user!.id}, 'authorization_code', 'api:read', now() + interval '1 hour') RETURNING id`;
  let refresh = randomToken(32);
  await sql`INSERT INTO refresh_tokens (token_hash, grant_id, client_id, user_id, scope, expires_at) VALUES (${hashToken(deps, refresh)}, ${g!.id}, ${rp.client_id}, ${user!.id}, 'api:read', now() + interval '1 hour')`;
  const form = { "content-type": "application/x-www-form-urlencoded", authorization: basic };
  const authorize = `${url}/oauth/authorize?response_type=code&client_id=${encodeURIComponent(rp.client_id)}&redirect_uri=${encodeURIComponent(rp.redirect_uri)}&scope=openid&state=s&code_challenge=${"a".repeat(43)}&code_challenge_method=S256`;
  for (let i = 0; i < 200; i++) {
    await fetch(`${url}/.well-known/openid-configuration`);
    await fetch(`${url}/.well-known/jwks.json`);
    await fetch(`${url}/oauth/token`, { method: "POST", headers: form, body: "grant_type=client_credentials&scope=api%3Aread" });
    await fetch(`${url}/oauth/introspect`, { method: "POST", headers: form, body: `token=${access}` });
    const r = await fetch(`${url}/oauth/token`, { method: "POST", headers: form, body: `grant_type=refresh_token&refresh_token=${refresh}` });
    refresh = ((await r.json()) as { refresh_token?: string }).refresh_token ?? refresh;
    if (i % 20 === 0) await (await fetch(authorize, { redirect: "manual" })).text();
  }
} finally {
  await server.stop(); // SIGTERM: the profile is written at exit
}
if (!existsSync(serveOut)) throw new Error("authly serve wrote no profile (BUN_BYTECODE_ORDER_OUT)");
copyFileSync(serveOut, SERVE_ORDER);

// The admin CLI's start (a run writes its own file; `admin --help` loads the command tree).
const cliOut = join(tmp, "cli.txt");
const cli = Bun.spawnSync([bin, "admin", "--help"], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: tmp, AUTHLY_CONFIG_DIR: join(tmp, ".authly"), BUN_BYTECODE_ORDER_OUT: cliOut }, stdout: "ignore", stderr: "pipe" });
if (cli.exitCode !== 0 || !existsSync(cliOut)) throw new Error(`authly admin --help wrote no profile: ${cli.stderr.toString()}`);
copyFileSync(cliOut, CLI_ORDER);
rmSync(tmp, { recursive: true, force: true });

await build();
console.log(`wrote ${SERVE_ORDER} and ${CLI_ORDER}; ${bin} rebuilt with them`);
