// The admin CLI's stored login (~/.authly/tokens.json): folder 0700, file 0600, written atomically
// (named -storage: *-store.ts files hold SQL).
// Token values are sealed with AES-256-GCM under a key kept in the system keyring when one is
// available (secret-tool on Linux, `security` on macOS); otherwise the file alone protects them.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";
import { CliError, ExitCode } from "../errors";
import { decrypt, encrypt } from "../lib/crypto";

export interface Tokens {
  access_token: string;
  refresh_token?: string;
  token_type: string;
  scope: string;
  /** ISO 8601 (UTC). */
  expires_at: string;
  obtained_at: string;
  api_url: string;
  username: string;
  /** The private key the tokens are bound to (RFC 9449 DPoP), as JSON `{alg, jwk}`: a stolen
   *  access or refresh token is useless without it. Kept with the tokens, protected like them. */
  dpop_key?: string;
  /** The server's issuer: DPoP proofs name its URLs (htu). */
  issuer?: string;
}

interface TokenFile extends Omit<Tokens, "access_token" | "refresh_token" | "dpop_key"> {
  dpop_key?: string;
  version: 1;
  storage: "keyring" | "file";
  keyring?: string;
  access_token: string;
  refresh_token?: string;
}

export type StorageMode = "auto" | "keyring" | "file";

interface Keyring {
  tool: string;
  get(account: string): string | undefined;
  set(account: string, secret: string): void;
  remove(account: string): void;
}

const SERVICE = "authly-cli";

function run(cmd: string[], stdin?: string): { ok: boolean; out: string; err: string } {
  try {
    const r = Bun.spawnSync(cmd, { stdin: stdin !== undefined ? new TextEncoder().encode(stdin) : "ignore", stdout: "pipe", stderr: "pipe", timeout: 5000 });
    return { ok: r.exitCode === 0, out: r.stdout.toString().trim(), err: r.stderr.toString().trim() };
  } catch (err) {
    return { ok: false, out: "", err: (err as Error).message };
  }
}

/** One keyring tool invocation: its argv and what goes to its stdin. */
export interface KeyringCommand {
  argv: string[];
  stdin?: string;
}

/**
 * The command lines of the keyring tools (pure, so that a test can check them). A secret never goes
 * in argv (readable by every local user in `ps` or /proc/PID/cmdline), only on stdin:
 * - `secret-tool store` reads the secret from stdin.
 * - macOS `security add-generic-password -w SECRET` would put it in argv, and `-w` without a value
 *   prompts through readpassphrase, which reads /dev/tty rather than stdin when a terminal is
 *   attached (and asks twice). So the command is sent on stdin to `security -i` (interactive mode:
 *   one command per stdin line); only the quoted account path and the base64 key are on that line.
 */
export function keyringCommand(tool: "secret-tool" | "security", bin: string, op: "get" | "set" | "remove", account: string, secret?: string): KeyringCommand {
  if (tool !== "security") { // secret-tool
    if (op === "get") return { argv: [bin, "lookup", "service", SERVICE, "account", account] };
    if (op === "remove") return { argv: [bin, "clear", "service", SERVICE, "account", account] };
    return { argv: [bin, "store", "--label=Authly CLI token key", "service", SERVICE, "account", account], stdin: secret ?? "" };
  }
  if (op === "get") return { argv: [bin, "find-generic-password", "-s", SERVICE, "-a", account, "-w"] };
  if (op === "remove") return { argv: [bin, "delete-generic-password", "-s", SERVICE, "-a", account] };
  // The interactive line is split on blanks with double quotes grouping: refuse what would need escaping.
  if (/["'\\\x00-\x1f\x7f]/.test(account)) throw new Error("the token file path contains a quote, backslash or control character; the macOS keychain cannot be used for it");
  if (!/^[A-Za-z0-9+/=_-]+$/.test(secret ?? "")) throw new Error("the keychain secret must be base64");
  return { argv: [bin, "-i"], stdin: `add-generic-password -U -s ${SERVICE} -a "${account}" -w ${secret}\n` };
}

function findKeyring(): Keyring | undefined {
  const secretTool = Bun.which("secret-tool");
  const security = secretTool ? null : process.platform === "darwin" ? Bun.which("security") : null;
  const bin = secretTool ?? security;
  if (!bin) return undefined;
  const tool = secretTool ? "secret-tool" : "security";
  const exec = (c: KeyringCommand) => run(c.argv, c.stdin);
  const get = (account: string) => {
    const r = exec(keyringCommand(tool, bin, "get", account));
    return r.ok && r.out ? r.out : undefined;
  };
  return {
    tool: secretTool ? "secret-tool" : "macOS keychain",
    get,
    set: (account, secret) => {
      const r = exec(keyringCommand(tool, bin, "set", account, secret));
      if (!r.ok) throw new Error(r.err || `${tool} could not store the key`);
      // `security -i` reports success even when its command failed: read the key back.
      if (get(account) !== secret) throw new Error(`${tool} did not keep the key`);
    },
    remove: (account) => void exec(keyringCommand(tool, bin, "remove", account)),
  };
}

export interface StorageInfo {
  storage: "keyring" | "file";
  description: string;
}

export class TokenStore {
  readonly file: string;
  private readonly mode: StorageMode;
  private readonly configDir: string;
  private keyring: Keyring | undefined | null = null;
  /** The storage of the file last read: a refresh keeps it (no keyring retries on every refresh). */
  lastStorage: "keyring" | "file" | undefined;

  constructor(opts: { file: string; configDir: string; mode: StorageMode }) {
    this.file = opts.file;
    this.mode = opts.mode;
    this.configDir = opts.configDir;
  }

  exists(): boolean {
    return existsSync(this.file);
  }

  private ring(): Keyring | undefined {
    if (this.keyring === null) this.keyring = this.mode === "file" ? undefined : findKeyring();
    if (this.mode === "keyring" && !this.keyring) {
      throw new CliError("No system keyring available", ExitCode.general, "AUTHLY_TOKEN_STORAGE=keyring needs `secret-tool` (libsecret) or the macOS keychain; use auto or file.");
    }
    return this.keyring;
  }

  /** Which storage a write would use now, in words (for `auth info`). */
  describeStorage(): StorageInfo {
    if (this.exists()) {
      try {
        const f = JSON.parse(readFileSync(this.file, "utf8")) as TokenFile;
        if (f.storage === "keyring") return { storage: "keyring", description: `encrypted (AES-256-GCM), key in the system keyring (${f.keyring ?? "keyring"})` };
        return { storage: "file", description: "plain file, owner read/write only (0600); no system keyring in use" };
      } catch {
        // fall through to what a new login would use
      }
    }
    if (this.mode === "file") return { storage: "file", description: "plain file, owner read/write only (0600) (AUTHLY_TOKEN_STORAGE=file)" };
    const ring = findKeyring();
    return ring
      ? { storage: "keyring", description: `encrypted (AES-256-GCM), key in the system keyring (${ring.tool})` }
      : { storage: "file", description: "plain file, owner read/write only (0600); no system keyring found (install libsecret's secret-tool to encrypt)" };
  }

  read(): Tokens | undefined {
    if (!this.exists()) return undefined;
    let f: TokenFile;
    try {
      f = JSON.parse(readFileSync(this.file, "utf8")) as TokenFile;
      if (!f || typeof f !== "object" || typeof f.access_token !== "string") throw new Error("missing access_token");
    } catch (err) {
      throw new CliError(`The token file ${this.file} is damaged`, ExitCode.auth, `${(err as Error).message}. Run \`authly admin auth login\` again.`);
    }
    const { version: _v, storage, keyring: _k, ...rest } = f;
    this.lastStorage = storage === "keyring" ? "keyring" : "file";
    if (storage !== "keyring") return rest as Tokens;
    const key = this.findKey();
    if (!key) throw new CliError("Stored tokens cannot be decrypted", ExitCode.auth, "The keyring no longer holds their key. Run `authly admin auth login` again.");
    try {
      return {
        ...rest,
        access_token: decrypt(key, f.access_token, "access_token"),
        refresh_token: f.refresh_token ? decrypt(key, f.refresh_token, "refresh_token") : undefined,
        dpop_key: f.dpop_key ? decrypt(key, f.dpop_key, "dpop_key") : undefined,
      } as Tokens;
    } catch {
      throw new CliError("Stored tokens cannot be decrypted", ExitCode.auth, "The keyring key does not match the token file. Run `authly admin auth login` again.");
    }
  }

  private findKey(): Buffer | undefined {
    const ring = this.ring();
    const v = ring?.get(this.file);
    if (!v) return undefined;
    const key = Buffer.from(v, "base64");
    return key.length === 32 ? key : undefined;
  }

  /** `keep`: write with the storage of the file last read (refreshes); login decides afresh. */
  write(tokens: Tokens, opts: { keep?: boolean } = {}): StorageInfo {
    const dir = dirname(this.file);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (dir === this.configDir) chmodSync(dir, 0o700);
    let out: TokenFile = { version: 1, storage: "file", ...tokens };
    let info: StorageInfo = { storage: "file", description: "plain file (0600)" };
    const ring = opts.keep && this.lastStorage === "file" ? undefined : this.ring();
    if (ring) {
      try {
        let key = this.findKey();
        if (!key) {
          key = randomBytes(32);
          ring.set(this.file, key.toString("base64"));
        }
        out = {
          ...out,
          storage: "keyring",
          keyring: ring.tool,
          access_token: encrypt(key, tokens.access_token, "access_token"),
          refresh_token: tokens.refresh_token ? encrypt(key, tokens.refresh_token, "refresh_token") : undefined,
          dpop_key: tokens.dpop_key ? encrypt(key, tokens.dpop_key, "dpop_key") : undefined,
        };
        info = { storage: "keyring", description: `encrypted, key in ${ring.tool}` };
      } catch (err) {
        if (this.mode === "keyring") throw new CliError("Cannot store the token key in the system keyring", ExitCode.general, (err as Error).message);
        // auto: a keyring tool without a running keyring service (headless box): fall back to the file.
      }
    }
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(out, null, 2) + "\n");
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
    return info;
  }

  clear(): void {
    const ring = this.mode === "file" ? undefined : findKeyring();
    ring?.remove(this.file);
    rmSync(this.file, { force: true });
  }

  /** Serialises refreshes between CLI processes sharing one token file (rotation would race). */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.file}.lock`;
    const dir = dirname(this.file);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        closeSync(openSync(lock, "wx", 0o600));
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== "EEXIST") throw err;
        try {
          if (Date.now() - statSync(lock).mtimeMs > 15_000) rmSync(lock, { force: true });
        } catch {
          // gone already
        }
        if (Date.now() > deadline) break; // proceed without the lock rather than hang
        await Bun.sleep(50);
      }
    }
    try {
      return await fn();
    } finally {
      rmSync(lock, { force: true });
    }
  }
}
