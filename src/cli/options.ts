// Option and command-name checks for every command (run.ts applies them before a command runs):
// an unknown option or sub-command is refused with exit 5 and, when one is close, "did you mean".
import type { ArgsDef } from "citty";
import { CliError, ExitCode } from "../errors";

/** Edit distance with transpositions ("shwo" → "show" is 1), bounded to short words (names). */
export function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.max(a.length, b.length);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidate (a typo, a prefix, or a missing/extra letter), or undefined. */
export function suggest(word: string, candidates: string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 3 ? 0.5 : editDistance(word, c);
    if (d <= Math.max(1, Math.min(3, Math.floor(c.length / 3))) && (!best || d < best.d)) best = { name: c, d };
  }
  return best?.name;
}

/** Fails (exit 5) on an option or extra argument the command does not know, instead of ignoring it. */
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
    if (!known.has(name)) {
      const close = suggest(name, [...known.keys()].filter((k) => k.length > 1));
      // A value of the command's own (a key id, a name) may start with "-": it goes after "--".
      const value = !close && seenPositionals < positionals ? ` If ${a} is a value, put it after "--": ... -- ${a}` : "";
      throw new CliError(`Unknown option: ${a.split("=")[0]}${close ? ` (did you mean --${close}?)` : ""}`, ExitCode.validation, `See --help for the options of this command.${value}`);
    }
    const type = known.get(name);
    if ((type === "string" || type === "enum") && !a.includes("=")) {
      if (rawArgs[i + 1] === undefined) throw new CliError(`${a} needs a value`, ExitCode.validation);
      i++;
    }
  }
}

/** The error for `authly <path> <word>` where <word> is not a sub-command of <path>. */
export function unknownCommand(path: string[], word: string, commands: string[]): CliError {
  const close = suggest(word, commands);
  return new CliError(`Unknown command: ${[...path, word].join(" ")}${close ? ` (did you mean \`authly ${[...path, close].join(" ")}\`?)` : ""}`, ExitCode.validation, `Run \`authly ${[...path, "--help"].join(" ")}\` to see the commands.`);
}
