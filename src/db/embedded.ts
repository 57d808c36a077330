// The embedded engine of `authly serve --embedded`: PGlite (PostgreSQL in WebAssembly) persisted in
// a data folder and reached by the same postgres.js code through pglite-socket on a loopback port.
// The wasm and data files are imported as files so that `bun build --compile` embeds them; through
// package.json "imports": from the sources PGlite's own files, in the release build (condition
// authly-compressed, build.ts) zstd-compressed copies (15.7 MB -> 4.7 MB of the executable).
import pgliteWasm from "#embedded-engine/pglite.wasm" with { type: "file" };
import initdbWasm from "#embedded-engine/initdb.wasm" with { type: "file" };
import pgliteData from "#embedded-engine/pglite.data" with { type: "file" };
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";

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

const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** An engine file's bytes, decompressed when it is the release build's zstd copy (~60 ms). */
async function readEngineFile(path: string): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  if (!ZSTD_MAGIC.every((b, i) => bytes[i] === b)) return bytes;
  const plain = Bun.zstdDecompressSync(bytes);
  return new Uint8Array(plain.buffer as ArrayBuffer, plain.byteOffset, plain.byteLength);
}

/** Creates (or opens) a PGlite database; `pgDir` undefined = in memory. */
export async function createPglite(pgDir?: string): Promise<PGliteInstance> {
  const [{ PGlite }, pgliteWasmModule, initdbWasmModule, fsBundle] = await Promise.all([
    import("@electric-sql/pglite"),
    readEngineFile(pgliteWasm).then((b) => WebAssembly.compile(b)),
    readEngineFile(initdbWasm).then((b) => WebAssembly.compile(b)),
    readEngineFile(pgliteData).then((b) => new Blob([b])),
  ]);
  return PGlite.create({
    dataDir: pgDir ? `file://${pgDir}` : undefined,
    pgliteWasmModule,
    initdbWasmModule,
    fsBundle,
  } as import("@electric-sql/pglite").PGliteOptions);
}

/**
 * Serves a PGlite database over the PostgreSQL wire protocol on a loopback port (127.0.0.1 only).
 * pglite-socket authenticates nobody, so every connection must first pass SCRAM-SHA-256 with
 * `password` (generated when not given; it is in the returned URL): another local user cannot use
 * the port without reading the 0600 password file of the data folder.
 */
export async function serveOverSocket(db: PGliteInstance, maxConnections: number, password = randomBytes(24).toString("base64url")): Promise<{ url: string; stop(opts?: { closeDatabase?: boolean }): Promise<void> }> {
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections: Math.max(maxConnections, 1) });
  const queue = (server as unknown as { queryQueue: QueryQueue }).queryQueue;
  pinExtendedProtocolBatches(queue);
  requireScramAuthentication(queue, password);
  await server.start();
  return {
    url: `postgresql://postgres:${encodeURIComponent(password)}@${server.getServerConn()}/postgres?sslmode=disable`,
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
  const served = await serveOverSocket(db, opts.maxConnections, opts.dataDir ? embeddedDatabasePassword(opts.dataDir) : undefined);
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

/**
 * The password of the embedded database's socket: generated once, kept in the data folder
 * (db-password, mode 0600) beside secrets.json. Its only use is the loopback socket.
 */
export function embeddedDatabasePassword(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, "db-password");
  if (existsSync(file)) {
    const saved = readFileSync(file, "utf8").trim();
    if (saved.length >= 24) return saved;
  }
  const password = randomBytes(24).toString("base64url");
  writeFileSync(file, password + "\n", { mode: 0o600 });
  chmodSync(file, 0o600);
  return password;
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  resolve(n: number): void;
  reject(e: unknown): void;
  onData(d: Uint8Array): void;
}
interface QueryQueue {
  enqueue(handlerId: number, message: Uint8Array, onData: (d: Uint8Array) => void): Promise<number>;
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

const PROTOCOL_3 = 196608;
const PASSWORD_MESSAGE = 0x70; // 'p': SASLInitialResponse, SASLResponse
const SCRAM_ITERATIONS = 4096;
/** Bound on a client's authentication messages (a SCRAM exchange is a few hundred bytes). */
const MAX_AUTH_MESSAGE_BYTES = 4096;

type AuthState =
  | { phase: "first"; startup: Uint8Array }
  | { phase: "final"; startup: Uint8Array; clientFirstBare: string; serverFirst: string; nonce: string };

/**
 * SCRAM-SHA-256 (RFC 5802 / 7677, as PostgreSQL speaks it: AuthenticationSASL 10, SASLContinue 11,
 * SASLFinal 12) in front of pglite-socket. A connection's start-up message is held until the proof
 * checks out, then handed to PGlite, whose AuthenticationOk and ReadyForQuery complete the
 * start-up. A wrong proof or any other message gets ErrorResponse 28P01 and the connection is
 * closed (the handler closes its socket when enqueue rejects). The password is never sent: the
 * exchange proves knowledge of it, so nothing on the loopback wire can be replayed.
 */
function requireScramAuthentication(q: QueryQueue, password: string): void {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, SCRAM_ITERATIONS, 32, "sha256");
  const clientKey = hmac(salted, "Client Key");
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = hmac(salted, "Server Key");
  const states = new Map<number, AuthState>();
  const authenticated = new Set<number>();
  const enqueue = q.enqueue.bind(q);
  q.enqueue = async (handlerId, message, onData) => {
    if (authenticated.has(handlerId)) return enqueue(handlerId, message, onData);
    const state = states.get(handlerId);
    const refuse = (why: string) => {
      states.delete(handlerId);
      onData(errorResponse("28P01", "password authentication failed for the embedded database"));
      throw new Error(`embedded database: connection refused (${why})`);
    };
    if (message.length > MAX_AUTH_MESSAGE_BYTES) return refuse("oversized start-up message");
    const view = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    if (!state) {
      if (view.length < 8 || view.readInt32BE(4) !== PROTOCOL_3) return refuse("no start-up message");
      states.set(handlerId, { phase: "first", startup: message.slice() });
      const body = Buffer.concat([int32(10), Buffer.from("SCRAM-SHA-256\0\0")]);
      onData(backendMessage("R", body));
      return 0;
    }
    if (view[0] !== PASSWORD_MESSAGE || view.length < 5) return refuse("expected a SASL response");
    const payload = view.subarray(5);
    if (state.phase === "first") {
      // SASLInitialResponse: mechanism\0, int32 length, client-first-message.
      const end = payload.indexOf(0);
      if (end < 0 || payload.subarray(0, end).toString() !== "SCRAM-SHA-256" || payload.length < end + 5) return refuse("unsupported SASL mechanism");
      const clientFirst = payload.subarray(end + 5).toString();
      // gs2 header without channel binding ("n,,"), then n=user,r=nonce.
      const m = /^n,,(n=[^,]*,r=([\x21-\x2b\x2d-\x7e]+))$/.exec(clientFirst);
      if (!m) return refuse("malformed SCRAM client-first-message");
      const nonce = m[2]! + randomBytes(18).toString("base64");
      const serverFirst = `r=${nonce},s=${salt.toString("base64")},i=${SCRAM_ITERATIONS}`;
      states.set(handlerId, { phase: "final", startup: state.startup, clientFirstBare: m[1]!, serverFirst, nonce });
      onData(backendMessage("R", Buffer.concat([int32(11), Buffer.from(serverFirst)])));
      return 0;
    }
    // SASLResponse: client-final-message "c=biws,r=NONCE,p=PROOF".
    const m = /^(c=biws,r=([^,]+)),p=([A-Za-z0-9+/=]+)$/.exec(payload.toString());
    if (!m || m[2] !== state.nonce) return refuse("malformed SCRAM client-final-message");
    const authMessage = `${state.clientFirstBare},${state.serverFirst},${m[1]}`;
    const proof = Buffer.from(m[3]!, "base64");
    const signature = hmac(storedKey, authMessage);
    if (proof.length !== signature.length) return refuse("wrong password");
    const candidate = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) candidate[i] = proof[i]! ^ signature[i]!;
    if (!timingSafeEqual(createHash("sha256").update(candidate).digest(), storedKey)) return refuse("wrong password");
    states.delete(handlerId);
    authenticated.add(handlerId);
    onData(backendMessage("R", Buffer.concat([int32(12), Buffer.from(`v=${hmac(serverKey, authMessage).toString("base64")}`)])));
    // PGlite answers the held start-up message: AuthenticationOk, parameters, ReadyForQuery.
    return enqueue(handlerId, state.startup, onData);
  };
  const clear = q.clearQueueForHandler.bind(q);
  q.clearQueueForHandler = function (id: number) {
    states.delete(id);
    authenticated.delete(id);
    clear(id);
  };
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

function backendMessage(type: string, body: Buffer): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from(type), int32(body.length + 4), body]));
}

function errorResponse(code: string, message: string): Uint8Array {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`);
  return backendMessage("E", fields);
}
