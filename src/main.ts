#!/usr/bin/env bun
// Entry point of the one `authly` executable: the server (`serve`) and the admin CLI (`admin`).
import { defineCommand } from "citty";
import { runCli } from "./cli/run";
import { VERSION } from "./version";

export const root = defineCommand({
  meta: { name: "authly", version: VERSION, description: "Authly: OAuth 2.1 + OpenID Connect 1.0 authorization server" },
  subCommands: {
    serve: () => import("./cli/serve").then((m) => m.default),
    admin: () => import("./cli/admin/index").then((m) => m.default),
    migrate: () => import("./cli/migrate").then((m) => m.default),
    healthcheck: () => import("./cli/healthcheck").then((m) => m.default),
  },
});

// No top-level await: `bun build --bytecode` (build.ts) cannot precompile a module that has one.
if (import.meta.main) {
  // Commands that keep running (serve) never resolve until they stop.
  void runCli(root, process.argv.slice(2), VERSION).then((code) => process.exit(code));
}
