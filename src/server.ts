// Builds and runs one server process: database (external or embedded), migrations, keys,
// bootstrap, the HTTP listener, and a graceful shutdown. `cli/serve.ts` decides how many.
import type { Server } from "bun";
import { listenAddress } from "./lib/listen-address";
export { listeningLine } from "./lib/listen-address";
import { createApp } from "./app";
import { listenerIdleTimeoutSeconds, requestDeadlineSeconds, withDeadline } from "./http/deadline";
import { publicDocumentRoutes } from "./http/fast-routes";
import { publicDocuments } from "./oauth/documents";
import { settleBackgroundLogouts } from "./oidc/backchannel-logout";
import { errorToResponse } from "./http/error-handler";
import { setPeerAddress } from "./http/request-context";
import { loadConfig, processEnv, type Config } from "./config";
import { connectionBudgetWarning, createSql, ping, redactUrl, type Sql } from "./db/sql";
import { migrate, pendingCount } from "./db/migrate";
import type { Deps } from "./deps";
import { ConfigError, isDatabaseUnavailable } from "./errors";
import { deriveKey } from "./lib/crypto";
import { KeyService } from "./keys/service";
import { ClientCache } from "./clients/cache";
import { log } from "./log";
import type { Mode } from "./modes";
import { runBootstrap } from "./bootstrap";
import { startPurgeJob } from "./maintenance/service";
import { startMailWorker } from "./mail/service";
import { settlePasswordResetRequests } from "./account/password-reset";
import { boundRequestBody, hardBodyCap } from "./http/limits";
import type { EmbeddedDatabase } from "./db/embedded";
import { configureCryptoThreads } from "./lib/crypto-threads";

/** How often a listener checks that its JWKS route still matches the key cache. */
const JWKS_CHECK_MS = 5000;

export interface ServeOptions {
  host?: string;
  port?: number;
  embedded?: boolean;
  seed?: boolean;
  logLevel?: string;
  accessLog?: boolean;
  migrate?: boolean;
  dataDir?: string;
  /** Workers: the supervisor already migrated, bootstrapped and (embedded) runs the database. */
  worker?: boolean;
  reusePort?: boolean;
  env?: Record<string, string | undefined>;
}

export interface RunningServer {
  deps: Deps;
  server: Server<unknown>;
  /** A URL that reaches this server from this machine (loopback for a wildcard bind). */
  url: string;
  /** The address it is bound to, as `host:port` ("0.0.0.0:8000" = every IPv4 interface). */
  address: string;
  wildcard: boolean;
  stop(): Promise<void>;
}

/** Loads the configuration for `serve`, with the embedded engine's URL and secrets where needed. */
export function serveConfig(opts: ServeOptions, embeddedUrl?: string, secrets?: { jwtSecretKey: string; jwtRefreshSecretKey: string }): Config {
  const env = opts.env ?? processEnv();
  const implied: Mode | undefined = opts.embedded ? "embedded" : undefined;
  return loadConfig(env, {
    purpose: "server",
    impliedMode: implied,
    embedded: opts.embedded,
    overrides: {
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      ...(opts.port !== undefined ? { port: opts.port } : {}),
      ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel.toLowerCase() } : {}),
      ...(opts.accessLog !== undefined ? { accessLog: opts.accessLog } : {}),
      ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
      ...(embeddedUrl ? { databaseUrl: embeddedUrl } : {}),
      ...(secrets && !env.JWT_SECRET_KEY ? { jwtSecretKey: secrets.jwtSecretKey } : {}),
      ...(secrets && !env.JWT_REFRESH_SECRET_KEY ? { jwtRefreshSecretKey: secrets.jwtRefreshSecretKey } : {}),
    },
  });
}

/** Builds the dependencies of a server on an open pool (tests use this directly). */
export function buildDeps(config: Config, sql: Sql): Deps {
  if (!config.jwtSecretKey || !config.jwtRefreshSecretKey) throw new ConfigError(["JWT_SECRET_KEY and JWT_REFRESH_SECRET_KEY are required"]);
  const longest = Math.max(config.accessTokenTtl, config.idTokenTtl);
  configureCryptoThreads(config.cryptoThreads);
  return {
    config,
    sql,
    keys: new KeyService(sql, config.jwtSecretKey, { publishRetiredSeconds: longest + 300 }),
    clientCache: new ClientCache(sql, config.clientCacheSeconds * 1000),
    startedAt: Date.now(),
    health: { ready: false, migrating: false },
    peppers: {
      secrets: deriveKey(config.jwtSecretKey, "secret-hash-pepper"),
      tokens: deriveKey(config.jwtRefreshSecretKey, "token-hash-pepper"),
    },
  };
}

/**
 * Opens the pool and proves the database answers, within the mode's connect timeout. With
 * `allowUnavailable` (workers) an unreachable database is logged and the pool returned anyway: it
 * connects when the database comes back, and meanwhile requests answer 503.
 */
export async function connectDatabase(config: Config, opts: { allowUnavailable?: boolean } = {}): Promise<Sql> {
  const url = config.databaseUrl!;
  const sql = createSql({ url, pool: config.mode.pool, applicationName: "authly" });
  try {
    await ping(sql);
  } catch (err) {
    if (opts.allowUnavailable && isDatabaseUnavailable(err)) {
      log.warn(`PostgreSQL at ${redactUrl(url)} is unreachable (${err instanceof Error ? err.message : String(err)}); serving 503 until it returns`);
      return sql;
    }
    await sql.end({ timeout: 0 }).catch(() => {});
    const reason = err instanceof Error ? err.message : String(err);
    throw new StartupError(`Cannot connect to PostgreSQL at ${redactUrl(url)}: ${reason}`);
  }
  return sql;
}

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}

/** Migrates (when allowed), ensures signing keys and runs the bootstrap. Run once per start. */
export async function prepareDatabase(deps: Deps, opts: { migrate: boolean; seed?: boolean; bootstrap: boolean; workers?: number }): Promise<void> {
  const budget = await connectionBudgetWarning(deps.sql, opts.workers ?? 1, deps.config.mode.pool.max);
  if (budget) log.warn(budget);
  if (opts.migrate) {
    deps.health.migrating = true;
    const applied = await migrate(deps.sql);
    deps.health.migrating = false;
    if (applied.length) log.info(`Applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(", ")}`);
  } else {
    const pending = await pendingCount(deps.sql);
    if (pending > 0) throw new StartupError(`The database has ${pending} pending migration(s). Run \`authly migrate\`, or start with --migrate (AUTHLY_AUTO_MIGRATE=true).`);
  }
  await deps.keys.ensureKeys([deps.config.accessTokenAlg, deps.config.idTokenAlg]);
  await runBootstrap(deps, { enabled: opts.bootstrap, seed: opts.seed ?? false });
}

/**
 * The signing keys and JWKS at start. A worker may start while the database is away: then it
 * listens without them (the JWKS route answers 503 like every database route) and the republish
 * timer below loads them when the database returns.
 */
async function initialJwks(deps: Deps): Promise<{ body: string; etag: string } | undefined> {
  try {
    await deps.keys.refresh();
    return await deps.keys.jwksDocument();
  } catch (err) {
    if (!isDatabaseUnavailable(err)) throw err;
    log.warn("Signing keys not loaded: the database is unreachable; they load when it returns");
    return undefined;
  }
}

/** Starts the HTTP listener for prepared dependencies. */
export async function listen(deps: Deps, opts: { reusePort?: boolean } = {}): Promise<RunningServer> {
  let jwks = await initialJwks(deps);
  const app = createApp(deps);
  const handle = app.fetch;
  const deadlineSeconds = requestDeadlineSeconds(deps.config);
  const deadlineMs = deadlineSeconds * 1000;
  const fullPipeline = (request: Request, srv: Server<unknown>) => {
    setPeerAddress(request, srv.requestIP(request)?.address);
    // An oversized body is drained before its 413; a chunked one arrives as a new Request (limits.ts).
    const bounded = boundRequestBody(request, deps.config.maxBodyBytes);
    if (bounded === request) return withDeadline(request, () => handle(request), deadlineMs);
    return Promise.resolve(bounded).then((r) => {
      if (r instanceof Response) return r;
      setPeerAddress(r, srv.requestIP(request)?.address);
      return withDeadline(r, () => handle(r), deadlineMs);
    });
  };
  const onError = (err: Error) => errorToResponse(err, { issuer: deps.config.issuer, request: new Request(deps.config.issuer), code: "UNKNOWN" });
  const documents = publicDocuments(deps);
  const server = Bun.serve({
    hostname: deps.config.host,
    port: deps.config.port,
    reusePort: opts.reusePort ?? false,
    // The listener drains and answers 413 as JSON (http/limits.ts); Bun cuts anything beyond the drain.
    maxRequestBodySize: hardBodyCap(deps.config.maxBodyBytes),
    // Above the request deadline: Bun's default (10 s) reset requests still waiting on the database.
    idleTimeout: listenerIdleTimeoutSeconds(deadlineSeconds),
    // Never Bun's development error page (it shows stack traces).
    development: false,
    // GETs of the metadata and the JWKS are static routes of Bun's router (http/fast-routes.ts).
    routes: publicDocumentRoutes(documents, jwks),
    fetch: fullPipeline,
    error: onError,
  });
  // A new key set is published as soon as this process loads it: at once after a rotation here,
  // within KEY_CACHE_SECONDS + JWKS_CHECK_MS after one elsewhere (the timer keeps the cache
  // loading even when nothing else in this process needs a key).
  let stopping: Promise<void> | undefined;
  const republish = () => {
    deps.keys.jwksDocument().then((doc) => {
      if (doc.etag === jwks?.etag || stopping) return;
      jwks = doc;
      server.reload({ routes: publicDocumentRoutes(documents, doc), fetch: fullPipeline, error: onError });
    }, (err) => {
      const reason = { reason: err instanceof Error ? err.message : String(err) };
      if (isDatabaseUnavailable(err)) log.debug("Could not reload the signing keys for the JWKS", reason);
      else log.warn("Could not reload the signing keys for the JWKS", reason);
    });
  };
  const stopJwksListener = deps.keys.onRefresh(republish);
  const jwksTimer = setInterval(republish, JWKS_CHECK_MS);
  jwksTimer.unref();
  const purge = startPurgeJob(deps, deps.config.purgeIntervalSeconds);
  const mailWorker = startMailWorker(deps);
  // AUTHLY_KEY_ROTATION_INTERVAL_DAYS: every process checks hourly; the key lock lets one rotate.
  const stopRotation = deps.keys.startRotationSchedule(deps.config.keyRotationIntervalDays, (r) =>
    log.info(`Rotated signing keys on schedule: ${r.map((k) => `${k.alg} -> ${k.activated}`).join(", ")}`));
  // Client records are cached from here on, invalidated through LISTEN/NOTIFY (clients/cache.ts).
  deps.clientCache?.start();
  deps.health.ready = true;
  const { url, address, wildcard } = listenAddress(server.hostname ?? deps.config.host, server.port ?? deps.config.port);
  return {
    deps,
    server,
    url,
    address,
    wildcard,
    stop() {
      stopping ??= (async () => {
        deps.health.ready = false;
        // No JWKS republishing onto a server that is stopping.
        clearInterval(jwksTimer);
        stopJwksListener();
        const grace = deps.config.shutdownGraceSeconds * 1000;
        // Stop accepting; let in-flight requests finish within the grace period, then cut.
        const drained = server.stop(false);
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([drained, new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
        clearTimeout(timer);
        await server.stop(true);
        // Logout tokens an admin action started are delivered (each bounded to 5 s) and audited
        // before the pool closes.
        await Promise.race([settleBackgroundLogouts(), new Promise<void>((r) => setTimeout(r, grace).unref())]);
        // Reset requests answered before the stop finish their (short) database work.
        await Promise.race([settlePasswordResetRequests(), new Promise<void>((r) => setTimeout(r, grace).unref())]);
        await purge.stop();
        await mailWorker.stop();
        stopRotation();
        await deps.clientCache?.stop();
        await deps.sql.end({ timeout: 5 });
      })();
      return stopping;
    },
  };
}

export type { EmbeddedDatabase };
