// `authly docs cli`: prints the CLI reference (docs/cli.md) as Markdown, generated from the
// command tree, so that the committed file and `--help` cannot drift apart.
import { defineCommand, type CommandDef } from "citty";
import { VERSION } from "../version";
import { helpText } from "./help";

const cli = Object.assign(
  defineCommand({
    meta: { name: "cli", description: "Print the CLI reference (every command, option, example, JSON shape, exit code) as Markdown." },
    async run() {
      const { root } = await import("./root");
      const { renderCliReference } = await import("./cli-reference");
      // console.log writes synchronously (process.stdout.write to a pipe does not, and main.ts exits
      // right after the command: `authly docs cli | less` lost all but the first 64 KiB).
      console.log((await renderCliReference(root, VERSION)).trimEnd());
    },
  }),
  {
    help: helpText({
      examples: ["# Regenerate the committed reference\n$ authly docs cli > docs/cli.md"],
      exitCodes: [
        [0, "Success"],
        [5, "Validation error (unknown options)"],
      ],
    }),
  },
);

export default Object.assign(defineCommand({ meta: { name: "docs", description: "Documentation generated from Authly itself." }, subCommands: { cli } }), {
  help: helpText({ examples: ["$ authly docs cli > docs/cli.md"], exitCodes: [[0, "Success"], [5, "Validation error (unknown command or option)"]] }),
}) as CommandDef<any>;
