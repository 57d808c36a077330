// The `authly` command line without a server: --help of every command (description, typed options,
// defaults, examples, exit codes), --commands, shell completion, option errors (exit 5),
// config.toml validation, and lazy loading (admin commands never load the server, PGlite or
// testcontainers).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { authlyCommand, runAuthly } from "../support/process";
import { makeHome, ROOT } from "./admin-support";

// Every test runs real processes (often several) on a shared, busy machine.
setDefaultTimeout(120_000);

const ADMIN_COMMANDS = [
  "auth login", "auth logout", "auth whoami", "auth status", "auth refresh", "auth info", "auth change-password",
  "client create", "client list", "client show", "client update", "client delete", "client regenerate-secret",
  "scope create", "scope list", "scope show", "scope update", "scope delete", "scope defaults",
  "user create", "user list", "user show", "user update", "user deactivate", "user reset-password", "user delete", "user sessions", "user revoke-sessions", "user consents", "user revoke-consent",
  "key list", "key rotate", "audit list", "status",
  "user unlock",
  "mail test", "mail", "user verify-email",
  "client registration-token create",
  "resource create", "resource list", "resource show", "resource update", "resource delete", "resource",
  "idp create", "idp list", "idp show", "idp update", "idp delete", "idp",
  // The groups too.
  "auth", "client", "scope", "user", "key", "audit",
];

describe("help", () => {
  test("every admin command has a description, typed options with defaults, examples and the exit codes", async () => {
    // A few at a time: two cores, shared.
    const all = [...ADMIN_COMMANDS, ""];
    const results = [];
    for (let i = 0; i < all.length; i += 4) results.push(...(await Promise.all(all.slice(i, i + 4).map((c) => runAuthly(["admin", ...c.split(" ").filter(Boolean), "--help"])))));
    results.forEach((r, i) => {
      const cmd = all[i]!;
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`Usage: authly admin ${cmd}`.trim());
      expect(r.stdout, cmd).toContain("Options:");
      expect(r.stdout, cmd).toContain("Examples:");
      expect(r.stdout, cmd).toContain(`$ authly admin ${cmd}`);
      expect(r.stdout, cmd).toContain("Exit codes:");
      for (const code of ["0  Success", "1  General error", "2  Authentication error", "3  Permission denied", "4  Resource not found", "5  Validation error"]) expect(r.stdout, cmd).toContain(code);
    });
  });

  test("serve, migrate, healthcheck and docs --help show examples and their exit codes too", async () => {
    const cmds = [["serve"], ["migrate"], ["healthcheck"], ["docs", "cli"], ["admin", "recover"]];
    const results = await Promise.all(cmds.map((c) => runAuthly([...c, "--help"])));
    results.forEach((r, i) => {
      const cmd = cmds[i]!.join(" ");
      expect(r.code, cmd).toBe(0);
      expect(r.stdout, cmd).toContain(`Usage: authly ${cmd}`);
      expect(r.stdout, cmd).toContain("Examples:");
      expect(r.stdout, cmd).toContain(`$ authly ${cmd}`);
      expect(r.stdout, cmd).toMatch(/Exit codes:\n  0  \S[^\n]*\n  1  |Exit codes:\n  0  \S[^\n]*\n  5  /);
    });
    expect(results[0]!.stdout).toContain("1  Start-up failed");
    expect(results[1]!.stdout).toContain("--embedded");
    expect(results[1]!.stdout).toContain("$ authly migrate --status --embedded --data-dir ~/.authly/embedded");
    expect(results[2]!.stdout).toContain("1  Unhealthy");
    expect(results[4]!.stdout).toContain("4  No user with that username");
  });

  test("client create --help shows the guide's options with types and [required]", async () => {
    const r = await runAuthly(["admin", "client", "create", "--help"]);
    expect(r.stdout).toContain("Create a new OAuth 2.1 client.");
    expect(r.stdout).toMatch(/--name TEXT\s+Client display name\s+\[required\]/);
    expect(r.stdout).toMatch(/--type \[public\|confidential\]\s+Client type\s+\[required\]/);
    expect(r.stdout).toMatch(/--redirect-uri URL\s+Redirect URI \(can be specified multiple times\)/);
    for (const o of ["--scope", "--client-uri", "--logo-uri", "--tos-uri", "--policy-uri", "--contacts", "--post-logout-redirect-uri", "--auth-method", "--grant-type", "--jwks-uri", "--backchannel-logout-uri", "--output [table|json]"]) {
      expect(r.stdout).toContain(o);
    }
    expect(r.stdout).toContain("Public clients (SPAs, mobile) don't receive a secret.");
  });

  test("client list --help shows defaults (limit 20, offset 0)", async () => {
    const r = await runAuthly(["admin", "client", "list", "--help"]);
    expect(r.stdout).toMatch(/--limit INTEGER\s+Number of clients to show\s+\[default: 20\]/);
    expect(r.stdout).toMatch(/--offset INTEGER\s+Pagination offset\s+\[default: 0\]/);
  });

  test("authly --help lists the global options; authly admin --help lists the groups", async () => {
    const root = await runAuthly(["--help"]);
    for (const o of ["--version", "--commands", "--install-completion", "--help", "admin", "serve"]) expect(root.stdout).toContain(o);
    const admin = await runAuthly(["admin", "--help"]);
    for (const g of ["auth", "client", "scope", "user", "key", "status"]) expect(admin.stdout).toMatch(new RegExp(`^  ${g}\\s`, "m"));
    // A group without a command prints its help too.
    expect((await runAuthly(["admin", "client"])).stdout).toContain("regenerate-secret");
  });
});

describe("--commands", () => {
  test("draws the whole command tree with descriptions, as the guide", async () => {
    const r = await runAuthly(["--commands"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("authly");
    expect(r.stdout).toMatch(/├── admin\s+# Administrative operations for Authly\./);
    expect(r.stdout).toMatch(/│   ├── auth\s+# Authentication commands for admin access\./);
    expect(r.stdout).toMatch(/│   │   ├── login\s+# Login to the Authly Admin API\./);
    expect(r.stdout).toMatch(/│   │   ├── logout\s+# Logout from the Authly Admin API\./);
    expect(r.stdout).toMatch(/│   ├── client\s+# Manage OAuth 2\.1 clients\./);
    expect(r.stdout).toMatch(/│   │   ├── create\s+# Create a new OAuth 2\.1 client\./);
    expect(r.stdout).toMatch(/│   │   ├── list\s+# List all OAuth clients\./);
    expect(r.stdout).toMatch(/serve\s+# Start the Authly web service\./);
    // Options of a command appear under it.
    expect(r.stdout).toMatch(/--redirect-uri\s+# Redirect URI/);
  });
});

describe("docs/cli.md (authly docs cli)", () => {
  test("the committed CLI reference is what `authly docs cli` prints (regenerate: authly docs cli > docs/cli.md)", async () => {
    const r = await runAuthly(["docs", "cli"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const committed = readFileSync(join(ROOT, "docs/cli.md"), "utf8");
    // Not toBe on 2000 lines: name the first line that differs.
    const want = r.stdout.split("\n");
    const have = committed.split("\n");
    const first = want.findIndex((l, i) => l !== have[i]);
    expect(first === -1 && want.length === have.length ? "up to date" : `docs/cli.md is stale from line ${first + 1}: run \`authly docs cli > docs/cli.md\``).toBe("up to date");
  });

  test("a slow pipe gets the whole reference (the process does not exit before stdout is written)", async () => {
    // The reader starts late on purpose, so that the pipe's buffer fills before the CLI exits.
    const cmd = authlyCommand(["docs", "cli"]).map((p) => `'${p}'`).join(" ");
    const proc = Bun.spawn(["bash", "-c", `${cmd} | { sleep 1; wc -c; }`], { env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe", cwd: ROOT });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(Number(out.trim())).toBe(statSync(join(ROOT, "docs/cli.md")).size);
  });

  test("it covers every command with its options, defaults, examples and exit codes", async () => {
    const md = (await runAuthly(["docs", "cli"])).stdout;
    for (const cmd of [...ADMIN_COMMANDS.map((c) => `admin ${c}`), "serve", "migrate", "healthcheck", "docs cli"]) expect(md, cmd).toContain(`\`authly ${cmd}\``);
    expect(md).toContain("| `--workers` | INTEGER | `1` |  | Number of worker processes");
    expect(md).toContain("| `--limit` | INTEGER | `20` |");
    expect(md).toContain("$ authly admin client create");
    expect(md).toContain("| 5 | Validation error");
    expect(md).toContain('"client_secret"');
    // Every command section has examples and exit codes.
    const sections = md.split(/\n(?=#{2,4} <a id=)/).slice(1);
    expect(sections.length).toBeGreaterThan(45);
    for (const s of sections) {
      expect(s, s.split("\n")[0]).toContain("**Exit codes**");
      expect(s, s.split("\n")[0]).toContain("**Examples**");
    }
  });
});

describe("shell completion", () => {
  async function bashComplete(script: string, words: string[]): Promise<string[]> {
    const line = `source '${script}'; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _authly_complete; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const p = Bun.spawn(["bash", "-c", line], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    return out.split("\n").filter(Boolean).sort();
  }

  test("--install-completion detects bash from $SHELL, installs once, and completes commands, sub-commands, options and values", async () => {
    const { home } = makeHome();
    const env = { HOME: home, SHELL: "/bin/bash" };
    const r = await runAuthly(["--install-completion"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("bash completion installed");
    const script = join(home, ".bash_completions", "authly.sh");
    expect(existsSync(script)).toBe(true);
    expect(readFileSync(join(home, ".bashrc"), "utf8")).toContain(`source ${script}`);
    await runAuthly(["--install-completion"], { env });
    expect(readFileSync(join(home, ".bashrc"), "utf8").split(`source ${script}`).length).toBe(2);

    expect(await bashComplete(script, ["authly", ""])).toEqual(expect.arrayContaining(["admin", "serve"]));
    expect(await bashComplete(script, ["authly", "admin", ""])).toEqual(expect.arrayContaining(["auth", "client", "scope", "status"]));
    expect(await bashComplete(script, ["authly", "admin", "client", ""])).toEqual(["create", "delete", "list", "regenerate-secret", "registration-token", "show", "update"]);
    expect(await bashComplete(script, ["authly", "admin", "client", "create", "--redi"])).toEqual(["--redirect-uri"]);
    expect(await bashComplete(script, ["authly", "admin", "client", "create", "--name", "x", "--type", ""])).toEqual(["confidential", "public"]);
    expect(await bashComplete(script, ["authly", "admin", "scope", "list", "--output", "j"])).toEqual(["json"]);
  });

  test("zsh and fish: installed where the shell loads them; an unknown shell is exit 5", async () => {
    const { home } = makeHome();
    const zsh = await runAuthly(["--install-completion"], { env: { HOME: home, SHELL: "/usr/bin/zsh" } });
    expect(zsh.code).toBe(0);
    expect(readFileSync(join(home, ".zsh_completions", "authly.zsh"), "utf8")).toContain("bashcompinit");
    expect(readFileSync(join(home, ".zshrc"), "utf8")).toContain("authly.zsh");
    const fish = await runAuthly(["--install-completion", "fish"], { env: { HOME: home } });
    expect(fish.code).toBe(0);
    const fishScript = readFileSync(join(home, ".config", "fish", "completions", "authly.fish"), "utf8");
    expect(fishScript).toContain("complete -c authly");
    expect(fishScript).toContain("'regenerate-secret\tGenerate a new client secret (confidential clients).'");
    // Where the shells are installed, ask them.
    if (Bun.which("fish")) {
      const script = join(home, ".config", "fish", "completions", "authly.fish");
      const p = Bun.spawn(["fish", "--no-config", "-c", `source '${script}'; complete -C "authly admin client "; complete -C "authly admin client create --type "`], { env: { ...process.env, HOME: home }, stdout: "pipe", stderr: "pipe" });
      const out = await new Response(p.stdout).text();
      await p.exited;
      expect(out).toContain("regenerate-secret\tGenerate a new client secret (confidential clients).");
      expect(out.split("\n")).toEqual(expect.arrayContaining(["confidential", "public"]));
    }
    if (Bun.which("zsh")) {
      // -f: no system rc files; then exactly what an interactive start would read from ~/.zshrc.
      const p = Bun.spawn(["zsh", "-f", "-c", "source ~/.zshrc; print -r -- ${_comps[authly]}"], { env: { ...process.env, HOME: home }, stdout: "pipe", stderr: "pipe" });
      const out = await new Response(p.stdout).text();
      await p.exited;
      expect(out).toContain("_authly_complete");
      const q = Bun.spawn(["zsh", "-c", `source ${join(home, ".zsh_completions", "authly.zsh")}; setopt ksharrays; COMP_WORDS=(authly admin scope ""); COMP_CWORD=3; _authly_complete; print -l "\${COMPREPLY[@]}"`], { env: { ...process.env, HOME: home }, stdout: "pipe", stderr: "pipe" });
      const words = (await new Response(q.stdout).text()).split("\n").filter(Boolean).sort();
      await q.exited;
      expect(words).toEqual(["create", "defaults", "delete", "list", "show", "update"]);
    }
    const bad = await runAuthly(["--install-completion"], { env: { HOME: home, SHELL: "/bin/tcsh" } });
    expect(bad.code).toBe(5);
    expect(bad.stderr).toContain("bash|zsh|fish");
    const shown = await runAuthly(["--show-completion", "bash"]);
    expect(shown.stdout).toContain("complete -o default -F _authly_complete authly");
  });
});

describe("usage errors are validation errors (exit 5)", () => {
  test("unknown option, missing required option, bad enum value, unknown command", async () => {
    const env = { AUTHLY_ADMIN_API_URL: "http://127.0.0.1:9" };
    const unknown = await runAuthly(["admin", "client", "list", "--bogus"], { env });
    expect(unknown.code).toBe(5);
    expect(unknown.stderr).toContain("Error: Unknown option: --bogus");
    const missing = await runAuthly(["admin", "client", "create", "--type", "public"], { env });
    expect(missing.code).toBe(5);
    expect(missing.stderr).toContain("--name");
    const badEnum = await runAuthly(["admin", "client", "create", "--name", "x", "--type", "secret", "--redirect-uri", "https://a.example/cb"], { env });
    expect(badEnum.code).toBe(5);
    const cmd = await runAuthly(["admin", "clients"], { env });
    expect(cmd.code).toBe(5);
    expect(cmd.stderr).toContain("Unknown command: admin clients");
    const limit = await runAuthly(["admin", "client", "list", "--limit", "ten"], { env });
    expect(limit.code).toBe(5);
    expect(limit.stderr).toContain("--limit must be a whole number");
    for (const r of [unknown, missing, badEnum, cmd, limit]) expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  test("every command refuses an unknown option with exit 5 and a 'did you mean' (serve, migrate, healthcheck, admin, docs)", async () => {
    // Before: serve/migrate/healthcheck ignored them (`--wrokers 4` started one worker).
    const cases: [string[], string][] = [
      [["serve", "--wrokers", "4"], "Unknown option: --wrokers (did you mean --workers?)"],
      [["serve", "--embeded"], "Unknown option: --embeded (did you mean --embedded?)"],
      [["migrate", "--stauts"], "Unknown option: --stauts (did you mean --status?)"],
      [["healthcheck", "--urll", "http://127.0.0.1:9"], "Unknown option: --urll (did you mean --url?)"],
      [["admin", "client", "list", "--limt", "3"], "Unknown option: --limt (did you mean --limit?)"],
      [["admin", "status", "--outptu", "json"], "Unknown option: --outptu (did you mean --output?)"],
      [["docs", "cli", "--bogus"], "Unknown option: --bogus"],
      [["admin", "--bogus"], "Unknown option: --bogus"],
    ];
    const results = await Promise.all(cases.map(([args]) => runAuthly(args, { cleanEnv: true, env: { AUTHLY_ADMIN_API_URL: "http://127.0.0.1:9" } })));
    results.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(" ")).toBe(5);
      expect(r.stderr, cases[i]![0].join(" ")).toContain(`Error: ${cases[i]![1]}`);
      expect(r.stderr).not.toContain("DATABASE_URL");
    });
  });

  test("an unknown sub-command is refused the same with --help (exit 5), with a suggestion", async () => {
    const help = await runAuthly(["admin", "user", "nosuch", "--help"]);
    expect(help.code).toBe(5);
    expect(help.stdout).toBe("");
    expect(help.stderr).toContain("Error: Unknown command: admin user nosuch");
    const typo = await runAuthly(["admin", "user", "shwo", "--help"]);
    expect(typo.code).toBe(5);
    expect(typo.stderr).toContain("(did you mean `authly admin user show`?)");
    // A real group with --help still prints its help.
    expect((await runAuthly(["admin", "user", "--help"])).code).toBe(0);
  });

  test("a server that cannot be reached is exit 1 with one clear line and a reason", async () => {
    const { home, configDir } = makeHome();
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, "tokens.json"), JSON.stringify({ version: 1, storage: "file", access_token: "x", token_type: "Bearer", scope: "", expires_at: new Date(Date.now() + 3600_000).toISOString(), obtained_at: new Date().toISOString(), api_url: "http://127.0.0.1:9", username: "admin" }));
    const r = await runAuthly(["admin", "client", "list"], { env: { HOME: home, AUTHLY_CONFIG_DIR: configDir, AUTHLY_ADMIN_API_URL: "http://127.0.0.1:9" } });
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe("Error: Cannot reach the Authly admin API at http://127.0.0.1:9");
    expect(r.stderr).toContain("Is the server running");
  });

  test("not logged in is exit 2", async () => {
    const { home, configDir } = makeHome();
    const r = await runAuthly(["admin", "client", "list"], { env: { HOME: home, AUTHLY_CONFIG_DIR: configDir, AUTHLY_ADMIN_API_URL: "http://127.0.0.1:9" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Error: Not logged in");
    expect(r.stderr).toContain("authly admin auth login");
  });
});

describe("debugging (guide: Resource Manager Debugging)", () => {
  test("AUTHLY_LOG_LEVEL=DEBUG (any case) shows the mode, config file, API URL and token file on stderr", async () => {
    const { home, configDir } = makeHome();
    const r = await runAuthly(["admin", "client", "list"], { env: { HOME: home, AUTHLY_CONFIG_DIR: configDir, AUTHLY_LOG_LEVEL: "DEBUG", AUTHLY_MODE: "testing", AUTHLY_ADMIN_API_URL: "http://127.0.0.1:9" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("[debug] resource mode: mode=testing (env) pool=1-5");
    expect(r.stderr).toContain("[debug] config file: none (defaults)");
    expect(r.stderr).toContain("[debug] API URL: http://127.0.0.1:9 (from AUTHLY_ADMIN_API_URL)");
    expect(r.stderr).toContain(`[debug] token file: ${join(configDir, "tokens.json")} (absent)`);
    const quiet = await runAuthly(["admin", "client", "list"], { env: { HOME: home, AUTHLY_CONFIG_DIR: configDir, AUTHLY_LOG_LEVEL: "", AUTHLY_ADMIN_API_URL: "http://127.0.0.1:9" } });
    expect(quiet.stderr).not.toContain("[debug]");
  });
});

describe("~/.authly/config.toml", () => {
  async function infoWith(toml: string) {
    const { home, configDir } = makeHome();
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, "config.toml"), toml);
    return runAuthly(["admin", "auth", "info", "--output", "json"], { env: { HOME: home, AUTHLY_CONFIG_DIR: configDir, AUTHLY_ADMIN_API_URL: undefined } });
  }

  test("the guide's file is read: [api] url and timeout, [auth], [output]", async () => {
    const r = await infoWith(`[api]\nurl = "https://auth.mycompany.com"\ntimeout = 30\n\n[auth]\nauto_refresh = true\ntoken_file = "~/.authly/tokens.json"\n\n[output]\ndefault_format = "json"\nshow_timestamps = true\n`);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.api_url).toBe("https://auth.mycompany.com");
    expect(info.api_url_source).toContain("config.toml");
    // default_format = "json": even without --output the answer is JSON.
  });

  test("default_format = json makes data commands print JSON without --output", async () => {
    const { home, configDir } = makeHome();
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, "config.toml"), `[output]\ndefault_format = "json"\n`);
    const r = await runAuthly(["admin", "auth", "info"], { env: { HOME: home, AUTHLY_CONFIG_DIR: configDir } });
    expect(JSON.parse(r.stdout).config_dir).toBe(configDir);
  });

  test("a bad file gives a clear message naming the line (exit 5)", async () => {
    const cases: [string, RegExp][] = [
      [`[api]\nurl = "https://x.example"\ntimeout = "soon"\n`, /line 3: timeout must be a number/],
      [`[api]\nurl = https://x.example\n`, /line 2: url: cannot read value/],
      [`[output]\n\n# comment\ndefault_format = "xml"\n`, /line 4: default_format must be "table" or "json"/],
      [`[api]\nretries = 3\n`, /line 2: unknown key `retries` in \[api\]/],
      [`[server]\n`, /line 1: unknown section \[server\]/],
      [`[auth]\nauto_refresh = yes\n`, /line 2: auto_refresh: cannot read value yes/],
      [`[api]\nurl = "unterminated\n`, /line 2: url: unterminated string/],
    ];
    for (const [toml, re] of cases) {
      const r = await infoWith(toml);
      expect(r.code, toml).toBe(5);
      expect(r.stderr, toml).toMatch(re);
      expect(r.stderr, toml).toContain("config.toml");
    }
  });
});

describe("lazy loading: admin commands never load the server, PGlite or testcontainers", () => {
  const FORBIDDEN = /\/src\/(server|app)\.ts$|\/src\/db\/|@electric-sql\/pglite|testcontainers|\/elysia\//;

  async function loadedModules(args: string[], env: Record<string, string> = {}): Promise<string[]> {
    const { home } = makeHome();
    const dump = join(home, "modules.json");
    const preload = join(home, "dump-modules.ts");
    writeFileSync(preload, `process.on("exit", () => require("node:fs").writeFileSync(${JSON.stringify(dump)}, JSON.stringify(Object.keys(require.cache))));\n`);
    const p = Bun.spawn([process.execPath, "--preload", preload, join(ROOT, "src/main.ts"), ...args], { env: { ...process.env, HOME: home, AUTHLY_CONFIG_DIR: join(home, ".authly"), ...env }, stdout: "pipe", stderr: "pipe" });
    await p.exited;
    return JSON.parse(readFileSync(dump, "utf8"));
  }

  test("admin --help and admin client list load none of them; serve --help does (the check works)", async () => {
    const help = await loadedModules(["admin", "--help"]);
    expect(help.length).toBeGreaterThan(10);
    expect(help.filter((m) => FORBIDDEN.test(m))).toEqual([]);
    const list = await loadedModules(["admin", "client", "list"], { AUTHLY_ADMIN_API_URL: "http://127.0.0.1:9" });
    expect(list.some((m) => m.endsWith("/src/cli/admin/client.ts"))).toBe(true);
    expect(list.filter((m) => FORBIDDEN.test(m))).toEqual([]);
    const serve = await loadedModules(["serve", "--help"]);
    expect(serve.some((m) => FORBIDDEN.test(m))).toBe(true);
  });

  test("no file of the admin CLI imports the server, a store or db/ (static scan)", () => {
    const files = [
      ...readdirSync(join(ROOT, "src/cli/admin")).map((f) => `src/cli/admin/${f}`),
      ...["api-client", "token-storage", "config-file", "output", "help", "tree", "completion", "root-flags", "run"].map((f) => `src/cli/${f}.ts`),
    ];
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), "utf8");
      for (const m of text.matchAll(/from\s+["']([^"']+)["']/g)) {
        expect(`${f} -> ${m[1]}`).not.toMatch(/-> .*(\/server$|\/app$|\/db\/|\/store$|elysia|pglite|testcontainers|^postgres$)/);
      }
    }
    expect(statSync(join(ROOT, "src/cli/admin/index.ts")).isFile()).toBe(true);
  });
});
