// The root of the command tree; every command loads lazily. main.ts runs it, `authly docs cli`
// documents it.
import { defineCommand } from "citty";
import { VERSION } from "../version";
import { helpText } from "./help";

const rootCommand = defineCommand({
  meta: { name: "authly", version: VERSION, description: "Authly: OAuth 2.1 + OpenID Connect 1.0 authorization server" },
  subCommands: {
    serve: () => import("./serve").then((m) => m.default),
    admin: () => import("./admin/index").then((m) => m.default),
    migrate: () => import("./migrate").then((m) => m.default),
    healthcheck: () => import("./healthcheck").then((m) => m.default),
    docs: () => import("./docs").then((m) => m.default),
  },
});

export const root = Object.assign(rootCommand, {
  help: helpText({
    examples: [
      "# A server on this machine with demo data (docs/quickstart.md)\n$ authly serve --embedded --seed",
      "# Administer it\n$ authly admin auth login\n$ authly admin status",
      "# Every command and option\n$ authly --commands",
      "# Tab completion for your shell\n$ authly --install-completion",
    ],
  }),
});
