// The embedded engine of `authly serve --embedded`: PGlite (PostgreSQL in WebAssembly) persisted in
// a data folder and reached by the same postgres.js code through pglite-socket on a loopback port.
// The wasm and data files are imported as files so that `bun build --compile` embeds them.
import pgliteWasm from "@electric-sql/pglite/pglite.wasm" with { type: "file" };
import initdbWasm from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import pgliteData from "@electric-sql/pglite/pglite.data" with { type: "file" };
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";

export interface EmbeddedDatabase {
  url: string;
  /** True when this start created the database (initdb ran). */
  created: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder that holds the database; undefined = in memory (tests). */
  dataDir?: string;
  /** Pool size of every process that will connect: pglite-socket refuses extra connections silently. */
  maxConnections: number;
  onProgress?: (message: string) => void;
}

type PGliteInstance = import("@electric-sql/pglite").PGlite;

/** Creates (or opens) a PGlite database; `pgDir` undefined = in memory. */
export async function createPglite(pgDir?: string): Promise<PGliteInstance> {
  const [{ PGlite }, pgliteWasmModule, initdbWasmModule, fsBundle] = await Promise.all([
    import("@electric-sql/pglite"),
    Bun.file(pgliteWasm).arrayBuffer().then((b) => WebAssembly.compile(b)),
    Bun.file(initdbWasm).arrayBuffer().then((b) => WebAssembly.compile(b)),
    Bun.file(pgliteData).arrayBuffer().then((b) => new Blob([b])),
  ]);
  return PGlite.create({
    dataDir: pgDir ? `file://${pgDir}` : undefined,
    pgliteWasmModule,
    initdbWasmModule,
    fsBundle,
  } as import("@electric-sql/pglite").PGliteOptions);
}

/** Serves a PGlite database over the PostgreSQL wire protocol on a loopback port. */
export async function serveOverSocket(db: PGliteInstance, maxConnections: number): Promise<{ url: string; stop(opts?: { closeDatabase?: boolean }): Promise<void> }> {
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: Math.max(maxConnections, 1) });
  pinExtendedProtocolBatches((server as unknown as { queryQueue: QueryQueue }).queryQueue);
  await server.start();
  return {
    url: `postgresql://postgres:postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    async stop(opts = {}) {
      await server.stop();
      if (opts.closeDatabase !== false) await db.close();
    },
  };
}

export async function startPglite(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const progress = opts.onProgress ?? (() => {});
  const pgDir = opts.dataDir ? join(opts.dataDir, "pgdata") : undefined;
  const created = !pgDir || !existsSync(join(pgDir, "PG_VERSION"));
  if (pgDir) mkdirSync(pgDir, { recursive: true, mode: 0o700 });
  progress(created ? "Creating the embedded PostgreSQL database (first start runs initdb; this takes a few seconds)" : "Opening the embedded PostgreSQL database");
  const db = await createPglite(pgDir);
  const served = await serveOverSocket(db, opts.maxConnections);
  return { url: served.url, created, stop: () => served.stop() };
}

/**
 * Secrets for the embedded engine when the environment has none: generated once and kept beside
 * the database (mode 0600), so that a restart keeps tokens valid and keys decryptable.
 */
export function embeddedSecrets(dataDir: string): { jwtSecretKey: string; jwtRefreshSecretKey: string } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, "secrets.json");
  if (existsSync(file)) {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { jwtSecretKey: string; jwtRefreshSecretKey: string };
    if (parsed.jwtSecretKey && parsed.jwtRefreshSecretKey) return parsed;
  }
  const gen = () => Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64url");
  const secrets = { jwtSecretKey: gen(), jwtRefreshSecretKey: gen() };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  chmodSync(file, 0o600);
  return secrets;
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve(n: number): void;
  reject(e: unknown): void;
  onData(d: Uint8Array): void;
}
interface QueryQueue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: { isInTransaction(): boolean; runExclusive<T>(fn: () => Promise<T>): Promise<T>; execProtocolRawStream(m: Uint8Array, o: { onRawData(d: Uint8Array): void }): Promise<unknown> };
  processQueue(): Promise<void>;
  clearQueueForHandler(id: number): void;
}

const SYNC = 0x53; // 'S'
const QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

/**
 * pglite-socket runs one message at a time from any connection. With the extended protocol
 * (Parse/Bind/Execute/Sync) two connections' messages then interleave and clobber each other's
 * unnamed portal ("portal \"\" does not exist"). This keeps one connection's batch together: after
 * a message that does not end a batch (Sync, simple Query, Terminate, start-up), or inside a
 * transaction, only the same connection's messages run until the batch or transaction ends.
 */
function pinExtendedProtocolBatches(q: QueryQueue): void {
  let midBatch = false;
  q.processQueue = async function processQueue(this: QueryQueue) {
    if (this.processing || this.queue.length === 0) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        let item: QueuedMessage | undefined;
        if (this.lastHandlerId !== null && (midBatch || this.db.isInTransaction())) {
          const i = this.queue.findIndex((m) => m.handlerId === this.lastHandlerId);
          if (i === -1) break; // wait for the pinned connection's next message
          item = this.queue.splice(i, 1)[0];
        } else {
          item = this.queue.shift();
        }
        if (!item) break;
        const type = item.message[0] ?? 0;
        let bytes = 0;
        try {
          await this.db.runExclusive(() => this.db.execProtocolRawStream(item!.message, { onRawData: (d) => { bytes += d.length; item!.onData(d); } }));
          this.lastHandlerId = item.handlerId;
          midBatch = !(type === SYNC || type === QUERY || type === TERMINATE || type === 0);
          item.resolve(bytes);
        } catch (err) {
          midBatch = false;
          item.reject(err);
        }
      }
    } finally {
      this.processing = false;
    }
  };
  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = function (id: number) {
    clear(id);
    if (q.lastHandlerId === id) midBatch = false;
    void q.processQueue();
  };
}
