// Shared pieces of the admin commands: common options, repeatable-option parsing (citty keeps only
// the last value of a repeated flag), unknown-option checks, and the help text every command shows.
import { defineCommand, type ArgsDef, type CommandDef, type CommandContext } from "citty";
import { CliError, ExitCode } from "../../errors";
import type { OutputFormat } from "../output";

export const outputArgs = {
  output: { type: "enum", options: ["table", "json"], description: "Output format (default: table, or [output] default_format in config.toml)" },
} as const satisfies ArgsDef;

export const destructiveArgs = {
  confirm: { type: "boolean", description: "Do not ask for confirmation (for scripts)" },
  yes: { type: "boolean", description: "Same as --confirm" },
  "dry-run": { type: "boolean", description: "Show what would change and change nothing" },
} as const satisfies ArgsDef;

export const apiUrlArgs = {
  "api-url": { type: "string", valueHint: "URL", description: "Admin API URL (default: AUTHLY_ADMIN_API_URL, the URL of your login, [api] url, http://localhost:8000)" },
} as const satisfies ArgsDef;

export const EXIT_CODES = `Exit codes:
  0  Success
  1  General error (server unreachable, unexpected answer)
  2  Authentication error (not logged in, session expired, bad credentials)
  3  Permission denied
  4  Resource not found
  5  Validation error (bad options or values, conflicts)`;

/** The text shown after citty's usage: details, examples and the exit codes. */
export function helpText(opts: { details?: string; examples?: string[]; json?: string; security?: string }): string {
  const parts: string[] = [];
  if (opts.details) parts.push(`Details:\n${indent(opts.details.trim())}`);
  if (opts.security) parts.push(`Security notes:\n${indent(opts.security.trim())}`);
  if (opts.examples?.length) parts.push(`Examples:\n${opts.examples.map((e) => indent(e.trim())).join("\n\n")}`);
  if (opts.json) parts.push(`JSON output (--output json):\n${indent(opts.json.trim())}`);
  parts.push(EXIT_CODES);
  return parts.join("\n\n") + "\n";
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => (l ? `  ${l}` : l))
    .join("\n");
}

/** All values of a repeatable option, in order (`--x a --x b`, `--x=a`). */
export function collect(rawArgs: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (a === `--${name}`) {
      const v = rawArgs[i + 1];
      if (v === undefined) throw new CliError(`--${name} needs a value`, ExitCode.validation);
      out.push(v);
      i++;
    } else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

/** Repeatable values where each may also hold several space-separated items (`--scope "a b"`). */
export function collectWords(rawArgs: string[], name: string): string[] {
  const words = collect(rawArgs, name).flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
  return [...new Set(words)];
}

/** Fails (exit 5) on an option the command does not know, instead of silently ignoring it. */
export function checkOptions(rawArgs: string[], args: ArgsDef): void {
  const known = new Map<string, string | undefined>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    known.set(name, def.type);
    if (def.type === "boolean") known.set(`no-${name}`, "boolean");
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const a of aliases) known.set(a, def.type);
  }
  const positionals = Object.values(args).filter((d) => d.type === "positional").length;
  let seenPositionals = 0;
  for (let i = 0; i < rawArgs.length; i++) {
    const a = rawArgs[i]!;
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-") {
      seenPositionals++;
      if (seenPositionals > positionals) throw new CliError(`Unexpected argument: ${a}`, ExitCode.validation, "See --help for the usage.");
      continue;
    }
    const name = a.replace(/^--?/, "").split("=")[0]!;
    if (!known.has(name)) throw new CliError(`Unknown option: ${a.split("=")[0]}`, ExitCode.validation, "See --help for the options of this command.");
    const type = known.get(name);
    if ((type === "string" || type === "enum") && !a.includes("=")) {
      if (rawArgs[i + 1] === undefined) throw new CliError(`${a} needs a value`, ExitCode.validation);
      i++;
    }
  }
}

type AdminCommandDef<T extends ArgsDef> = CommandDef<T> & { help?: string };

/** defineCommand plus the unknown-option check and the command's help text. */
export function defineAdminCommand<const T extends ArgsDef>(def: AdminCommandDef<T>): CommandDef<T> {
  const run = def.run;
  const wrapped: AdminCommandDef<T> = {
    ...def,
    run: run
      ? async (ctx: CommandContext<T>) => {
          checkOptions(ctx.rawArgs, (def.args ?? {}) as ArgsDef);
          return run(ctx);
        }
      : undefined,
  };
  return defineCommand(wrapped as CommandDef<T>);
}

export function parseWhole(value: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw new CliError(`${name} must be a whole number${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` ≥ ${min}`}`, ExitCode.validation);
  return n;
}

export function pickFormat(arg: string | undefined, fallback: OutputFormat): OutputFormat {
  return arg === "json" || arg === "table" ? arg : fallback;
}

/** A flag pair like --active/--inactive resolved to true/false/undefined (both: error). */
export function flagPair(rawArgs: string[], on: string, off: string): boolean | undefined {
  const a = rawArgs.includes(`--${on}`);
  const b = rawArgs.includes(`--${off}`);
  if (a && b) throw new CliError(`--${on} and --${off} cannot be used together`, ExitCode.validation);
  return a ? true : b ? false : undefined;
}
