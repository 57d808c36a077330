#!/usr/bin/env bun
// Entry point of the one `authly` executable: the server (`serve`) and the admin CLI (`admin`).
// First: @simplewebauthn/server's certificate code (tsyringe) needs the Reflect metadata polyfill
// loaded before it, which the compiled binary's module order does not otherwise guarantee.
import "reflect-metadata";
import { root } from "./cli/root";
import { runCli } from "./cli/run";
import { VERSION } from "./version";

export { root };

// No top-level await: `bun build --bytecode` (build.ts) cannot precompile a module that has one.
if (import.meta.main) {
  // Commands that keep running (serve) never resolve until they stop.
  void runCli(root, process.argv.slice(2), VERSION).then((code) => process.exit(code));
}
