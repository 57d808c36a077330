// What a running server hands to its routes and services. Built once in server.ts (or by tests).
import type { Config } from "./config";
import type { Sql } from "./db/sql";
import type { KeyService } from "./keys/service";
import type { ClientCache } from "./clients/cache";

export interface Health {
  /** False while migrating or after the database stopped answering. */
  ready: boolean;
  migrating: boolean;
  lastDatabaseError?: string;
  /** `serve --workers N`: which worker this process is (1..N), shown by /health/live. */
  worker?: number;
}

export interface Deps {
  config: Config;
  sql: Sql;
  keys: KeyService;
  /** Client records for client authentication; caches only once a server started it (listen()). */
  clientCache?: ClientCache;
  startedAt: number;
  health: Health;
  /** Peppers for keyed hashes, derived from the configured secrets. */
  peppers: {
    /** client secrets, CSRF, interaction ids, session cookies */
    secrets: Buffer;
    /** refresh tokens and authorization codes */
    tokens: Buffer;
  };
}
