#!/usr/bin/env bun
// Entry point of the one `authly` executable: the server (`serve`) and the admin CLI (`admin`).
// Nothing heavy is imported here: commands and the server's optional parts load when used
// (@simplewebauthn/server and its Reflect metadata polyfill: authn/webauthn.ts).
import { root } from "./cli/root";
import { runCli } from "./cli/run";
import { VERSION } from "./version";

export { root };

// No top-level await: `bun build --bytecode` (build.ts) cannot precompile a module that has one.
if (import.meta.main) {
  // Commands that keep running (serve) never resolve until they stop.
  void runCli(root, process.argv.slice(2), VERSION).then((code) => process.exit(code));
}
