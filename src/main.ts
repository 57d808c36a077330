#!/usr/bin/env bun
// Entry point of the one `authly` executable: the server (`serve`) and the admin CLI (`admin`).
// First: @simplewebauthn/server's certificate code (tsyringe) needs the Reflect metadata polyfill
// loaded before it, which the compiled binary's module order does not otherwise guarantee.
import "reflect-metadata";
import { root } from "./cli/root";
import { runCli } from "./cli/run";
import { VERSION } from "./version";

export { root };

if (import.meta.main) {
  const code = await runCli(root, process.argv.slice(2), VERSION);
  // Commands that keep running (serve) never return here until they stop.
  process.exit(code);
}
