// `--help` for every command, in the guide's layout ("Example Help Output"): usage, description,
// arguments, options with types, defaults and [required], sub-commands, then the command's own
// `help` text (details, examples, exit codes). Plain text: no colours, stable for tests and pipes.
import type { ArgsDef, CommandDef } from "citty";

async function resolve<T>(v: unknown): Promise<T> {
  return (typeof v === "function" ? await (v as () => Promise<T>)() : await v) as T;
}

const WIDTH = 100;
const COLUMN = 32;

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split("\n")) {
    let line = "";
    for (const word of para.split(" ")) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

function rows(items: [string, string][]): string {
  const col = Math.min(COLUMN, Math.max(...items.map(([l]) => l.length)) + 2);
  const lines: string[] = [];
  for (const [label, desc] of items) {
    const wrapped = wrap(desc, WIDTH - col - 2);
    if (label.length + 2 > col) {
      lines.push(`  ${label}`);
      for (const w of wrapped) if (w) lines.push(`  ${" ".repeat(col)}${w}`);
    } else {
      lines.push(`  ${label.padEnd(col)}${wrapped[0] ?? ""}`.trimEnd());
      for (const w of wrapped.slice(1)) lines.push(`  ${" ".repeat(col)}${w}`);
    }
  }
  return lines.join("\n");
}

function typeHint(def: ArgsDef[string]): string {
  if (def.type === "boolean") return "";
  if (def.type === "enum" && "options" in def && def.options?.length) return ` [${def.options.join("|")}]`;
  return ` ${def.valueHint ?? "TEXT"}`;
}

export async function renderHelp(cmd: CommandDef<any>, path: string[], version: string): Promise<string> {
  const meta = (await resolve<{ name?: string; description?: string }>(cmd.meta)) ?? {};
  const args = (await resolve<ArgsDef>(cmd.args)) ?? {};
  const subs = (await resolve<Record<string, unknown>>(cmd.subCommands)) ?? {};
  const name = ["authly", ...path].join(" ");
  const positionals = Object.entries(args).filter(([, d]) => d.type === "positional");
  const options = Object.entries(args).filter(([, d]) => d.type !== "positional");
  const usage = [name];
  if (options.length || !Object.keys(subs).length) usage.push("[OPTIONS]");
  for (const [n, d] of positionals) usage.push(d.required === false ? `[${(d.valueHint ?? n).toUpperCase()}]` : (d.valueHint ?? n).toUpperCase());
  if (Object.keys(subs).length) usage.push("COMMAND [ARGS]...");
  const out: string[] = [`Usage: ${usage.join(" ")}`, ""];
  if (meta.description) out.push(...wrap(meta.description, WIDTH - 2).map((l) => `  ${l}`), "");
  if (!path.length) out.push(`  Version ${version}`, "");
  if (positionals.length) {
    out.push("Arguments:", rows(positionals.map(([n, d]) => [(d.valueHint ?? n).toUpperCase(), `${d.description ?? ""}${d.required === false ? "" : "  [required]"}`])), "");
  }
  const optRows: [string, string][] = [];
  for (const [n, d] of options) {
    const aliases = "alias" in d && d.alias ? (Array.isArray(d.alias) ? d.alias : [d.alias]) : [];
    const flags = [...aliases.map((a) => (a.length === 1 ? `-${a}` : `--${a}`)), `--${n}`].join(", ");
    const negative = d.type === "boolean" && "negativeDescription" in d && d.negativeDescription ? ` / --no-${n}` : "";
    const extra = [d.required ? "[required]" : "", d.default !== undefined && d.default !== false ? `[default: ${d.default}]` : ""].filter(Boolean).join(" ");
    optRows.push([`${flags}${negative}${typeHint(d)}`, `${d.description ?? ""}${extra ? `  ${extra}` : ""}`]);
  }
  if (!path.length) {
    optRows.push(["--version", "Show version and exit"]);
    optRows.push(["--commands", "Show all available commands and options in a tree view"]);
    optRows.push(["--install-completion [bash|zsh|fish]", "Install shell tab completion for your shell (detected from $SHELL)"]);
    optRows.push(["--show-completion [bash|zsh|fish]", "Print the completion script instead of installing it"]);
  }
  optRows.push(["--help", "Show this message and exit."]);
  out.push("Options:", rows(optRows), "");
  const cmdRows: [string, string][] = [];
  for (const [sub, def] of Object.entries(subs)) {
    const subMeta = (await resolve<{ description?: string; hidden?: boolean }>((await resolve<CommandDef<any>>(def)).meta)) ?? {};
    if (!subMeta.hidden) cmdRows.push([sub, subMeta.description ?? ""]);
  }
  if (cmdRows.length) out.push("Commands:", rows(cmdRows), "", `Run '${name} COMMAND --help' for more information on a command.`, "");
  const extra = (cmd as { help?: string }).help;
  if (extra) out.push(extra.trimEnd(), "");
  return out.join("\n").trimEnd();
}

export const EXIT_CODES = `Exit codes:
  0  Success
  1  General error (server unreachable, unexpected answer)
  2  Authentication error (not logged in, session expired, bad credentials)
  3  Permission denied
  4  Resource not found
  5  Validation error (bad options or values, conflicts)`;

/** The text shown after the options: details, examples, JSON shape and the exit codes (the admin
 *  commands' codes unless a command lists its own). `authly docs cli` renders the same sections. */
export function helpText(opts: { details?: string; examples?: string[]; json?: string; security?: string; exitCodes?: [number, string][] }): string {
  const parts: string[] = [];
  if (opts.details) parts.push(`Details:\n${indent(opts.details.trim())}`);
  if (opts.security) parts.push(`Security notes:\n${indent(opts.security.trim())}`);
  if (opts.examples?.length) parts.push(`Examples:\n${opts.examples.map((e) => indent(e.trim())).join("\n\n")}`);
  if (opts.json) parts.push(`JSON output (--output json):\n${indent(opts.json.trim())}`);
  parts.push(opts.exitCodes ? `Exit codes:\n${opts.exitCodes.map(([c, d]) => `  ${c}  ${d}`).join("\n")}` : EXIT_CODES);
  return parts.join("\n\n") + "\n";
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => (l ? `  ${l}` : l))
    .join("\n");
}
