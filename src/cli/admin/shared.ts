// Shared pieces of the admin commands: common options, repeatable-option parsing (citty keeps only
// the last value of a repeated flag), unknown-option checks, and the help text every command shows.
import { defineCommand, type ArgsDef, type CommandDef } from "citty";
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

// The help layout (details, examples, JSON, exit codes) is shared with serve/migrate/healthcheck.
export { EXIT_CODES, helpText } from "../help";

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

/** Kept here for the admin commands' imports; the check lives in cli/options.ts. */
export { checkOptions } from "../options";

type AdminCommandDef<T extends ArgsDef> = CommandDef<T> & { help?: string };

/** defineCommand plus the command's help text (run.ts checks the options of every command). */
export function defineAdminCommand<const T extends ArgsDef>(def: AdminCommandDef<T>): CommandDef<T> {
  return defineCommand(def as CommandDef<T>);
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
