import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { keyringCommand } from "./token-storage";

const KEY = randomBytes(32).toString("base64");
const ACCOUNT = "/home/ann/.authly/tokens.json";

describe("keyring command lines", () => {
  test("the token key is never on a command line (argv is readable by every local user), only on stdin", () => {
    for (const tool of ["secret-tool", "security"] as const) {
      for (const op of ["get", "set", "remove"] as const) {
        const c = keyringCommand(tool, `/usr/bin/${tool}`, op, ACCOUNT, op === "set" ? KEY : undefined);
        expect(`${tool} ${op}: ${c.argv.join(" ")}`).not.toContain(KEY);
        if (op === "set") expect(c.stdin).toContain(KEY);
      }
    }
  });

  test("secret-tool store gets the key alone on stdin", () => {
    expect(keyringCommand("secret-tool", "secret-tool", "set", ACCOUNT, KEY)).toEqual({
      argv: ["secret-tool", "store", "--label=Authly CLI token key", "service", "authly-cli", "account", ACCOUNT],
      stdin: KEY,
    });
  });

  test("macOS: security -i reads the add-generic-password command from stdin", () => {
    expect(keyringCommand("security", "security", "set", ACCOUNT, KEY)).toEqual({
      argv: ["security", "-i"],
      stdin: `add-generic-password -U -s authly-cli -a "${ACCOUNT}" -w ${KEY}\n`,
    });
  });

  test("macOS: an account path that would need escaping on the interactive line is refused", () => {
    for (const bad of ['/tmp/a"b/tokens.json', "/tmp/a\\b", "/tmp/a\nadd-generic-password"]) {
      expect(() => keyringCommand("security", "security", "set", bad, KEY)).toThrow("macOS keychain");
    }
  });
});
