// Runs the citty command tree with Authly's error contract: one readable line on stderr, the
// guide's exit codes (errors.ts ExitCode), no stack traces unless AUTHLY_LOG_LEVEL=debug.
import { runCommand, type ArgsDef, type CommandDef } from "citty";
import { renderHelp } from "./help";
import { CliError, ConfigError, ExitCode } from "../errors";
import { checkOptions, unknownCommand } from "./options";
import { readEnv } from "../config";

async function resolve<T>(v: T | (() => T) | (() => Promise<T>) | Promise<T>): Promise<T> {
  return typeof v === "function" ? await (v as () => Promise<T>)() : await v;
}

/** Walks the sub-command chain named in rawArgs (stops at the first option or unknown word). */
export async function resolveCommand(root: CommandDef<any>, rawArgs: string[]): Promise<{ cmd: CommandDef<any>; parent?: CommandDef<any>; path: string[] }> {
  let cmd = root;
  let parent: CommandDef<any> | undefined;
  const path: string[] = [];
  for (const word of rawArgs) {
    if (word.startsWith("-")) break;
    const subs = cmd.subCommands ? await resolve(cmd.subCommands) : undefined;
    if (!subs || !(word in subs)) break;
    parent = cmd;
    cmd = await resolve(subs[word]!);
    path.push(word);
  }
  return { cmd, parent, path };
}

async function printHelp(cmd: CommandDef<any>, path: string[], version: string): Promise<void> {
  console.log(await renderHelp(cmd, path, version));
}

export async function runCli(root: CommandDef<any>, rawArgs: string[], version: string): Promise<number> {
  try {
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      console.log(version);
      return ExitCode.ok;
    }
    // Root flags of the guide: the command tree and shell completion.
    if (rawArgs[0] === "--commands" || rawArgs[0] === "--install-completion" || rawArgs[0] === "--show-completion") {
      const { runRootFlag } = await import("./root-flags");
      return await runRootFlag(root, rawArgs);
    }
    const { cmd, path } = await resolveCommand(root, rawArgs);
    // A word after a group that is not one of its commands is refused, with or without --help.
    if (cmd.subCommands) {
      const next = rawArgs[path.length];
      if (next !== undefined && !next.startsWith("-")) {
        const subs = (await resolve(cmd.subCommands)) ?? {};
        throw unknownCommand(path, next, Object.keys(subs));
      }
    }
    if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
      await printHelp(cmd, path, version);
      return ExitCode.ok;
    }
    if (!cmd.run) {
      // A group without a sub-command prints its help, like `authly admin`; an option there is unknown.
      checkOptions(rawArgs.slice(path.length), {});
      await printHelp(cmd, path, version);
      return ExitCode.ok;
    }
    // Every command refuses an option it does not know (exit 5, "did you mean").
    checkOptions(rawArgs.slice(path.length), ((await resolve(cmd.args)) ?? {}) as ArgsDef);
    // Run the command itself (not through its parents) so that its exit code comes back.
    const { result } = await runCommand(cmd, { rawArgs: rawArgs.slice(path.length) });
    return typeof result === "number" ? result : ExitCode.ok;
  } catch (err) {
    return reportError(err);
  }
}

export function reportError(err: unknown): number {
  const debug = (readEnv("AUTHLY_LOG_LEVEL") ?? "").toLowerCase() === "debug";
  if (err instanceof CliError) {
    console.error(`Error: ${err.message}`);
    if (err.detail) console.error(err.detail);
    return err.exitCode;
  }
  if (err instanceof ConfigError) {
    console.error(`Error: ${err.message}`);
    return ExitCode.validation;
  }
  const e = err as { code?: string; message?: string; name?: string };
  if (e?.code && (String(e.code).startsWith("E_") || e.code === "EARG")) {
    // citty's own argument errors (unknown command, missing required argument).
    console.error(`Error: ${e.message}`);
    return ExitCode.validation;
  }
  console.error(`Error: ${e?.message ?? String(err)}`);
  if (debug && err instanceof Error && err.stack) console.error(err.stack);
  return ExitCode.general;
}
