// ~/.authly/config.toml: the admin CLI's persistent settings ([api], [auth], [output]), read with a
// small line-based TOML reader so that every problem names its line.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliError, ExitCode } from "../errors";

export interface CliSettings {
  /** Where the settings came from (undefined: no file, defaults). */
  file?: string;
  api: { url?: string; timeout: number };
  auth: { autoRefresh: boolean; tokenFile?: string };
  output: { defaultFormat: "table" | "json"; showTimestamps: boolean };
}

export const DEFAULT_SETTINGS: CliSettings = {
  api: { timeout: 30 },
  auth: { autoRefresh: true },
  output: { defaultFormat: "table", showTimestamps: true },
};

type Scalar = string | number | boolean;

interface KeySpec {
  type: "string" | "number" | "boolean";
  check?: (v: Scalar) => string | undefined;
  apply: (s: CliSettings, v: Scalar) => void;
}

const SCHEMA: Record<string, Record<string, KeySpec>> = {
  api: {
    url: {
      type: "string",
      check: (v) => (/^https?:\/\/[^\s]+$/.test(String(v)) ? undefined : "must be an http:// or https:// URL"),
      apply: (s, v) => (s.api.url = String(v).replace(/\/+$/, "")),
    },
    timeout: {
      type: "number",
      check: (v) => (Number(v) > 0 && Number(v) <= 600 ? undefined : "must be a number of seconds from 1 to 600"),
      apply: (s, v) => (s.api.timeout = Number(v)),
    },
  },
  auth: {
    auto_refresh: { type: "boolean", apply: (s, v) => (s.auth.autoRefresh = Boolean(v)) },
    token_file: { type: "string", check: (v) => (String(v).trim() ? undefined : "must not be empty"), apply: (s, v) => (s.auth.tokenFile = expandHome(String(v))) },
  },
  output: {
    default_format: {
      type: "string",
      check: (v) => (v === "table" || v === "json" ? undefined : 'must be "table" or "json"'),
      apply: (s, v) => (s.output.defaultFormat = v as "table" | "json"),
    },
    show_timestamps: { type: "boolean", apply: (s, v) => (s.output.showTimestamps = Boolean(v)) },
  },
};

export function expandHome(path: string): string {
  return path === "~" ? homedir() : path.startsWith("~/") ? join(homedir(), path.slice(2)) : path;
}

/** Reads `<configDir>/config.toml` if it exists; throws CliError (exit 5) naming the line of a problem. */
export function loadSettings(configDir: string): CliSettings {
  const file = join(configDir, "config.toml");
  const settings: CliSettings = structuredClone(DEFAULT_SETTINGS);
  if (!existsSync(file)) return settings;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new CliError(`Cannot read ${file}`, ExitCode.general, (err as Error).message);
  }
  parseSettings(text, file, settings);
  settings.file = file;
  return settings;
}

/** Parses the text into settings (exported for unit tests). */
export function parseSettings(text: string, file: string, settings: CliSettings = structuredClone(DEFAULT_SETTINGS)): CliSettings {
  const fail = (line: number, message: string): never => {
    throw new CliError(`Invalid configuration file ${file}, line ${line}: ${message}`, ExitCode.validation, `Fix or remove the file; see \`authly admin auth info\` for the paths in use.`);
  };
  let section: string | undefined;
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = stripComment(lines[i]!).trim();
    if (!line) continue;
    const header = /^\[\s*([A-Za-z0-9_.-]+)\s*\]$/.exec(line);
    if (header) {
      section = header[1]!;
      if (!SCHEMA[section]) fail(n, `unknown section [${section}] (known: ${Object.keys(SCHEMA).map((s) => `[${s}]`).join(", ")})`);
      if (seen.has(`[${section}]`)) fail(n, `section [${section}] appears twice`);
      seen.add(`[${section}]`);
      continue;
    }
    if (line.startsWith("[")) fail(n, `malformed section header: ${line}`);
    const kv = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) fail(n, `expected \`key = value\`, got: ${line}`);
    const [, key, rawValue] = kv!;
    if (!section) fail(n, `\`${key}\` must be inside a section ([api], [auth] or [output])`);
    const spec = SCHEMA[section!]![key!];
    if (!spec) fail(n, `unknown key \`${key}\` in [${section}] (known: ${Object.keys(SCHEMA[section!]!).join(", ")})`);
    if (seen.has(`${section}.${key}`)) fail(n, `\`${key}\` is set twice in [${section}]`);
    seen.add(`${section}.${key}`);
    const value = parseValue(rawValue!.trim(), (m) => fail(n, `${key}: ${m}`));
    if (typeof value !== spec!.type) fail(n, `${key} must be a ${spec!.type === "number" ? "number" : spec!.type === "boolean" ? "boolean (true or false)" : 'quoted string ("...")'}`);
    const problem = spec!.check?.(value);
    if (problem) fail(n, `${key} ${problem}`);
    spec!.apply(settings, value);
  }
  return settings;
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}

function parseValue(raw: string, fail: (m: string) => never): Scalar {
  if (raw === "") return fail("missing value after '='");
  if (raw === "true") return true;
  if (raw === "false") return false;
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) return fail("unterminated string");
    try {
      return JSON.parse(raw) as string;
    } catch {
      return fail("invalid string escape");
    }
  }
  if (raw.startsWith("'")) {
    if (raw.length < 2 || !raw.endsWith("'") || raw.slice(1, -1).includes("'")) return fail("unterminated string");
    return raw.slice(1, -1);
  }
  if (/^[+-]?\d[\d_]*(\.\d+)?$/.test(raw)) return Number(raw.replace(/_/g, ""));
  return fail(`cannot read value ${raw} (strings need quotes)`);
}
