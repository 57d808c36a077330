// `authly serve`: one process, or a supervisor with N workers sharing the port (SO_REUSEPORT).
// Either holds the port's lock (port-lock.ts): a second `authly serve` on that port is refused.
// The supervisor migrates, bootstraps and (with --embedded) hosts the database once, then starts
// the workers, restarts a worker that dies (with back-off) and drains them all on SIGTERM/SIGINT.
import { defineCommand } from "citty";
import { CliError, ConfigError, ExitCode } from "../errors";
import { log, setLogLevel } from "../log";
import { describeMode } from "../modes";
import { readEnv } from "../config";
import type { EmbeddedDatabase } from "../db/embedded";
import { buildDeps, connectDatabase, listen, listeningLine, prepareDatabase, serveConfig, StartupError, type ServeOptions } from "../server";
import { KeyDecryptionError } from "../keys/service";
import { acquireDataDirLock, acquirePortLock, probePort } from "./port-lock";
import { planWorkers, superviseWorkers } from "./supervisor";
import { runWorker } from "./worker";
import { helpText } from "./help";

const serveCommand = defineCommand({
  meta: { name: "serve", description: "Start the Authly web service." },
  args: {
    host: { type: "string", valueHint: "HOST", description: "Host to bind to (default: 0.0.0.0)" },
    port: { type: "string", valueHint: "INTEGER", description: "Port to bind to (default: 8000)" },
    workers: { type: "string", valueHint: "INTEGER", description: "Number of worker processes (default: 1)", default: "1" },
    embedded: { type: "boolean", description: "Run with an embedded PostgreSQL (PGlite; AUTHLY_EMBEDDED_ENGINE=container for a container)", default: false },
    seed: { type: "boolean", description: "Seed test data (only with --embedded)", default: false },
    "log-level": { type: "string", valueHint: "LEVEL", description: "Logging level (default: info)" },
    "access-log": { type: "boolean", description: "Enable/disable access logging (default: enabled)", negativeDescription: "Disable access logging" },
    migrate: { type: "boolean", description: "Apply pending migrations at start (always on with --embedded)", default: false },
    "data-dir": { type: "string", valueHint: "PATH", description: "Folder of the embedded database (default: ~/.authly/embedded)" },
  },
  async run({ args }) {
    const requested = parseWhole(args.workers, "--workers", 1, 256);
    const port = args.port === undefined ? undefined : parseWhole(args.port, "--port", 0, 65535);
    if (requested > 1 && port === 0) throw new CliError("--workers needs a fixed --port (workers share one port)", ExitCode.validation);
    const plan = planWorkers(requested);
    if (plan.note) log.warn(plan.note);
    const workers = plan.count;
    if (args.seed && !args.embedded) throw new CliError("--seed works only with --embedded", ExitCode.validation);
    const opts: ServeOptions = {
      host: args.host,
      port,
      embedded: args.embedded,
      seed: args.seed,
      logLevel: args["log-level"],
      accessLog: args["access-log"],
      migrate: args.migrate,
      dataDir: args["data-dir"],
    };
    if (opts.logLevel) setLogLevel(opts.logLevel);
    try {
      const workerId = readEnv("AUTHLY_WORKER_ID");
      if (workerId) return await runWorker(opts, workerId);
      return await runPrimary(opts, workers);
    } catch (err) {
      if (err instanceof StartupError || err instanceof KeyDecryptionError) throw new CliError(err.message, ExitCode.general);
      if (err instanceof ConfigError) throw err;
      throw err;
    }
  },
});

export default Object.assign(serveCommand, {
  help: helpText({
    details:
      "Configuration comes from the environment (README: Configuration); these options win over it.\nWithout --embedded it needs DATABASE_URL, JWT_SECRET_KEY and JWT_REFRESH_SECRET_KEY.\n--embedded keeps a PGlite database and generated secrets in --data-dir, and creates an admin\n(the password is printed once at first start). Stop with Ctrl-C or SIGTERM: in-flight requests drain.",
    examples: [
      "# Try it: embedded database, demo client and user\n$ authly serve --embedded --seed",
      "# Production: external PostgreSQL, migrations applied at start, 4 workers on one port\n$ DATABASE_URL=postgresql://authly:secret@db:5432/authly \\\n  JWT_SECRET_KEY=\"$(openssl rand -base64 48)\" JWT_REFRESH_SECRET_KEY=\"$(openssl rand -base64 48)\" \\\n  authly serve --migrate --workers 4 --port 8000",
      "# Only on loopback, another data folder\n$ authly serve --embedded --host 127.0.0.1 --port 9000 --data-dir ./authly-data",
    ],
    exitCodes: [
      [0, "Stopped cleanly (SIGTERM or Ctrl-C)"],
      [1, "Start-up failed (database unreachable or not migrated, port or data folder in use, keys not decryptable) or the workers kept crashing"],
      [5, "Validation error (unknown or bad options, invalid configuration)"],
    ],
  }),
});

function parseWhole(value: string | undefined, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < min || n > max) throw new CliError(`${name} must be a whole number from ${min} to ${max}`, ExitCode.validation);
  return n;
}

async function startEmbedded(opts: ServeOptions, maxConnections: number): Promise<{ db: EmbeddedDatabase; secrets: { jwtSecretKey: string; jwtRefreshSecretKey: string }; dataDir: string }> {
  const probe = serveConfig({ ...opts, embedded: true }, "postgresql://embedded/placeholder", { jwtSecretKey: "x".repeat(32), jwtRefreshSecretKey: "y".repeat(32) });
  const dataDir = probe.dataDir;
  // Held for the life of the process (freed by the kernel, or at exit for a lock file).
  if (probe.embeddedEngine !== "container") await acquireDataDirLock(dataDir);
  const started = Date.now();
  const ticker = setInterval(() => log.info(`… still starting the embedded database (${Math.round((Date.now() - started) / 1000)} s)`), 3000);
  try {
    let db: EmbeddedDatabase;
    if (probe.embeddedEngine === "container") {
      const { startContainer } = await import("../db/container");
      db = await startContainer((m) => log.start(m));
    } else {
      const { startPglite } = await import("../db/embedded");
      db = await startPglite({ dataDir, maxConnections, onProgress: (m) => log.start(m) });
    }
    log.success(`Embedded database ready in ${((Date.now() - started) / 1000).toFixed(1)} s${db.created ? " (created)" : ""}${probe.embeddedEngine === "pglite" ? ` — data in ${dataDir}` : ""}`);
    const { embeddedSecrets } = await import("../db/embedded");
    return { db, secrets: embeddedSecrets(dataDir), dataDir };
  } finally {
    clearInterval(ticker);
  }
}

async function runPrimary(opts: ServeOptions, workers: number): Promise<number> {
  // Config first (without the embedded URL) so that a bad environment fails before any work.
  const early = opts.embedded ? serveConfig({ ...opts, embedded: true }, "postgresql://embedded/placeholder", { jwtSecretKey: "x".repeat(32), jwtRefreshSecretKey: "y".repeat(32) }) : serveConfig(opts);
  // The port is ours (not another authly's, not another program's) before any database work.
  const portLock = await acquirePortLock(early.port);
  try {
    await probePort(early.host, early.port);
    return await runOwned(opts, workers, early.mode.pool.max);
  } finally {
    portLock.release();
  }
}

async function runOwned(opts: ServeOptions, workers: number, poolMax: number): Promise<number> {
  let embedded: Awaited<ReturnType<typeof startEmbedded>> | undefined;
  if (opts.embedded) embedded = await startEmbedded(opts, poolMax * (workers + 1) + workers + 2);
  const config = serveConfig(opts, embedded?.db.url, embedded?.secrets);
  setLogLevel(opts.logLevel ?? config.logLevel);
  log.info(`Authly starting: ${describeMode(config.mode)}; workers=${workers}; database connections up to ${config.mode.pool.max * workers} (${workers} × ${config.mode.pool.max})`);
  const stopEmbedded = async () => embedded?.db.stop().catch(() => {});
  try {
    const sql = await connectDatabase(config);
    const deps = buildDeps(config, sql);
    const bootstrap = config.mode.bootstrap === "always" || (config.mode.bootstrap === "environment" && config.bootstrapEnabled);
    await prepareDatabase(deps, { migrate: Boolean(opts.embedded) || Boolean(opts.migrate) || config.autoMigrate, seed: opts.seed, bootstrap, workers });
    if (workers === 1) {
      const running = await listen(deps);
      log.success(listeningLine(running, config.issuer));
      await waitForSignal();
      log.info("Shutting down: draining in-flight requests");
      await running.stop();
      await stopEmbedded();
      log.info("Stopped");
      return ExitCode.ok;
    }
    await sql.end({ timeout: 5 });
    const env: Record<string, string> = {
      DATABASE_URL: config.databaseUrl!,
      JWT_SECRET_KEY: config.jwtSecretKey!,
      JWT_REFRESH_SECRET_KEY: config.jwtRefreshSecretKey!,
      AUTHLY_HOST: config.host,
      AUTHLY_PORT: String(config.port),
      AUTHLY_ISSUER: config.issuer,
      AUTHLY_LOG_LEVEL: opts.logLevel ?? config.logLevel,
      AUTHLY_ACCESS_LOG: String(opts.accessLog ?? config.accessLog),
      AUTHLY_MODE: opts.embedded && !readEnv("AUTHLY_MODE") ? "embedded" : (readEnv("AUTHLY_MODE") ?? ""),
    };
    const code = await superviseWorkers({ count: workers, env, port: config.port, graceSeconds: config.shutdownGraceSeconds, heartbeatSeconds: config.workerHeartbeatSeconds });
    await stopEmbedded();
    // Thrown, not returned: citty drops a sub-command's return value, and this must exit non-zero.
    if (code !== ExitCode.ok) throw new CliError("Workers kept crashing; Authly stopped", ExitCode.general);
    return code;
  } catch (err) {
    await stopEmbedded();
    throw err;
  }
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => () => resolve(sig);
    process.once("SIGTERM", on("SIGTERM"));
    process.once("SIGINT", on("SIGINT"));
  });
}
