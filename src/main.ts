#!/usr/bin/env bun
// Entry point of the one `authly` executable: the server (`serve`) and the admin CLI (`admin`).
// First: @simplewebauthn/server's certificate code (tsyringe) needs the Reflect metadata polyfill
// loaded before it, which the compiled binary's module order does not otherwise guarantee.
import "reflect-metadata";
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

if (import.meta.main) {
  const code = await runCli(root, process.argv.slice(2), VERSION);
  // Commands that keep running (serve) never return here until they stop.
  process.exit(code);
}
