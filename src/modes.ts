// AUTHLY_MODE: the resource modes of the CLI guide ("How CLI Mode Works"), their aliases and the
// PostgreSQL pool settings each one applies to postgres.js.

export type Mode = "cli" | "production" | "embedded" | "testing";

export interface PoolSettings {
  /** Connections kept warm (documented; postgres.js opens lazily up to max). */
  min: number;
  max: number;
  /** Seconds to wait for a connection before failing. */
  connectTimeout: number;
  /** Seconds an idle connection is kept. */
  idleTimeout: number;
}

export interface ModeInfo {
  mode: Mode;
  /** Where the mode came from: AUTHLY_MODE, the command that runs, or the default. */
  source: "env" | "command" | "default";
  pool: PoolSettings;
  bootstrap: "always" | "environment" | "never";
}

const ALIASES: Record<string, Mode> = {
  cli: "cli",
  admin: "cli",
  production: "production",
  prod: "production",
  embedded: "embedded",
  embed: "embedded",
  dev: "embedded",
  development: "embedded",
  testing: "testing",
  test: "testing",
};

export const POOL_SETTINGS: Record<Mode, PoolSettings> = {
  cli: { min: 1, max: 3, connectTimeout: 10, idleTimeout: 60 },
  production: { min: 5, max: 20, connectTimeout: 30, idleTimeout: 300 },
  embedded: { min: 2, max: 8, connectTimeout: 15, idleTimeout: 180 },
  // Tests open many short-lived pools side by side: small, quick to fail, quick to close.
  testing: { min: 1, max: 5, connectTimeout: 10, idleTimeout: 30 },
};

const BOOTSTRAP: Record<Mode, ModeInfo["bootstrap"]> = {
  cli: "never",
  production: "environment",
  embedded: "always",
  testing: "environment",
};

/** Maps a mode name or alias to its mode; undefined for an unknown name. */
export function parseMode(value: string | undefined): Mode | undefined {
  if (value === undefined) return undefined;
  return ALIASES[value.trim().toLowerCase()];
}

export const MODE_NAMES = Object.keys(ALIASES);

/**
 * Detects the mode: AUTHLY_MODE wins, then what the command implies (admin commands: cli,
 * `serve --embedded`: embedded), then production.
 */
export function detectMode(envValue: string | undefined, implied?: Mode): ModeInfo {
  const fromEnv = parseMode(envValue);
  const mode = fromEnv ?? implied ?? "production";
  const source = fromEnv ? "env" : implied ? "command" : "default";
  return { mode, source, pool: POOL_SETTINGS[mode], bootstrap: BOOTSTRAP[mode] };
}

/** One human line per setting, for `auth info`, `status --verbose` and the start-up log. */
export function describeMode(info: ModeInfo): string {
  const p = info.pool;
  return `mode=${info.mode} (${info.source}) pool=${p.min}-${p.max} connect_timeout=${p.connectTimeout}s idle=${p.idleTimeout}s bootstrap=${info.bootstrap}`;
}
