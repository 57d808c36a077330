// The root flags of the guide: `authly --commands` (the command tree) and
// `authly --install-completion [bash|zsh|fish]` / `--show-completion [shell]`.
import type { CommandDef } from "citty";
import { readEnv } from "../config";
import { CliError, ExitCode } from "../errors";
import { completionScript, installCompletion, pickShell } from "./completion";
import { loadTree, renderTree } from "./tree";

export async function runRootFlag(root: CommandDef<any>, rawArgs: string[]): Promise<number> {
  const [flag, arg, ...rest] = rawArgs;
  if (rest.length || (flag === "--commands" && arg !== undefined && arg !== "--no-options")) {
    throw new CliError(`Unexpected argument: ${rest[0] ?? arg}`, ExitCode.validation);
  }
  const tree = await loadTree(root, "authly");
  if (flag === "--commands") {
    console.log(renderTree(tree, { options: arg !== "--no-options" }));
    return ExitCode.ok;
  }
  const shell = pickShell(arg, readEnv("SHELL"));
  if (flag === "--show-completion") {
    // console.log writes synchronously: the process exits right after, and a pipe must get it all.
    console.log(completionScript(shell, tree).trimEnd());
    return ExitCode.ok;
  }
  const done = installCompletion(shell, tree);
  console.log(`✓ ${shell} completion installed in ${done.file}`);
  if (done.rcFile) console.log(`  (loaded from ${done.rcFile})`);
  console.log(`Completion will take effect once you restart the terminal, or run: ${done.activate}`);
  return ExitCode.ok;
}
