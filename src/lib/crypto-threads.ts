// JWS signatures (RFC 7518 §3) computed on helper threads: signing our tokens and checking DPoP
// proofs and our own JWTs are most of the CPU of a token, introspection or UserInfo request
// (ES256 sign ~20 µs, ES256 verify ~70 µs, RS256 sign ~1 ms here), and the event loop that serves
// HTTP is one thread. Jobs go to a thread as one message per batch, at most two batches per thread
// at a time: the jobs that arrive meanwhile wait and go together, so under load a message carries
// many jobs (a few µs of the event loop's time per job instead of the whole signature). Each
// thread answers its messages in order. AUTHLY_CRYPTO_THREADS sets how many threads a process
// starts (default 1; 0 computes everything on the event loop, as does any failure of a thread:
// the jobs then run in place).
// Threads start at the first job (an idle server has none) and do not keep the process alive.
//
// Keys travel as DER (private keys as PKCS #8, public as SPKI), exported once per KeyObject; a
// thread keeps the keys it imported (bounded). Nothing here logs a key or a signature input.
import { constants, sign as signSync, verify as verifySync, type KeyObject } from "node:crypto";
import { log } from "../log";

export type JwsAlg = "ES256" | "EdDSA" | "PS256" | "RS256";

/** The one place a JWS algorithm becomes node:crypto arguments; the thread's source repeats it. */
function nodeArgs(alg: JwsAlg, key: KeyObject): [string | null, KeyObject | { key: KeyObject; dsaEncoding?: "ieee-p1363"; padding?: number; saltLength?: number }] {
  switch (alg) {
    case "ES256":
      return ["sha256", { key, dsaEncoding: "ieee-p1363" }];
    case "EdDSA":
      return [null, key];
    case "PS256":
      return ["sha256", { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }];
    case "RS256":
      return ["sha256", key];
  }
}

/** Signs in place (no thread): the fallback, and what a thread does. */
export function signNow(alg: JwsAlg, key: KeyObject, data: string): string {
  const [hash, k] = nodeArgs(alg, key);
  return signSync(hash, Buffer.from(data), k as KeyObject).toString("base64url");
}

/** Verifies in place (no thread); false for any malformed input. */
export function verifyNow(alg: JwsAlg, key: KeyObject, data: string, signatureB64u: string): boolean {
  try {
    const [hash, k] = nodeArgs(alg, key);
    return verifySync(hash, Buffer.from(data), k as KeyObject, Buffer.from(signatureB64u, "base64url"));
  } catch {
    return false;
  }
}

// The thread's program (plain JavaScript: it runs from a Blob URL, in the sources as in the
// compiled binary). A job: [op, alg, keyDer, keyType, data, signature?]; the answer per job: the
// signature (base64url) or a boolean, or null when the job failed.
const THREAD_SOURCE = `
const { constants, createPrivateKey, createPublicKey, sign, verify } = require("node:crypto");
const keys = new Map();
const MAX_KEYS = 4096;
function keyOf(der, type) {
  let k = keys.get(der);
  if (k) return k;
  const buf = Buffer.from(der, "base64");
  k = type === "private" ? createPrivateKey({ key: buf, format: "der", type: "pkcs8" }) : createPublicKey({ key: buf, format: "der", type: "spki" });
  if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value);
  keys.set(der, k);
  return k;
}
function args(alg, key) {
  if (alg === "ES256") return ["sha256", { key, dsaEncoding: "ieee-p1363" }];
  if (alg === "EdDSA") return [null, key];
  if (alg === "PS256") return ["sha256", { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }];
  if (alg === "RS256") return ["sha256", key];
  throw new Error("alg");
}
self.onmessage = (event) => {
  const jobs = event.data;
  const out = new Array(jobs.length);
  for (let i = 0; i < jobs.length; i++) {
    const [op, alg, der, type, data, sig] = jobs[i];
    try {
      const [hash, k] = args(alg, keyOf(der, type));
      out[i] = op === "s" ? sign(hash, Buffer.from(data), k).toString("base64url") : verify(hash, Buffer.from(data), k, Buffer.from(sig, "base64url"));
    } catch {
      out[i] = op === "s" ? null : false;
    }
  }
  postMessage(out);
};
`;

type Job = [op: "s" | "v", alg: JwsAlg, der: string, type: "private" | "public", data: string, sig?: string];
interface Pending {
  job: Job;
  resolve: (value: string | boolean | null) => void;
  /** Runs the job in place when the thread cannot. */
  inPlace: () => string | boolean;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not yet answered, oldest first (a thread answers in order). */
  inflight: Pending[][];
}

const derCache = new WeakMap<KeyObject, string>();
function derOf(key: KeyObject): string {
  let der = derCache.get(key);
  if (!der) {
    der = (key.type === "private" ? key.export({ format: "der", type: "pkcs8" }) : key.export({ format: "der", type: "spki" })).toString("base64");
    derCache.set(key, der);
  }
  return der;
}

/** Threads to start at the first job (config AUTHLY_CRYPTO_THREADS, set by server.ts buildDeps). */
let desired = 1;

/** Sets how many helper threads this process starts at its first signature (0: none, all in place).
 *  Takes effect only before the first job: the threads then live as long as the process. */
export function configureCryptoThreads(count: number): void {
  desired = Math.max(0, Math.min(64, Math.floor(count)));
}

let threads: Thread[] | undefined;
let broken = false;
let next = 0;
let queue: Pending[] = [];
let scheduled = false;

function startThreads(count: number): Thread[] {
  const url = URL.createObjectURL(new Blob([THREAD_SOURCE], { type: "application/javascript" }));
  const started: Thread[] = [];
  for (let i = 0; i < count; i++) {
    // smol: a small heap; the thread holds keys and a batch of strings at a time.
    const worker = new Worker(url, { smol: true } as WorkerOptions);
    const thread: Thread = { worker, inflight: [] };
    worker.onmessage = (event: MessageEvent) => {
      const batch = thread.inflight.shift();
      const results = event.data as (string | boolean | null)[];
      batch?.forEach((p, j) => p.resolve(results[j] ?? null));
      if (queue.length && !scheduled) flush();
    };
    worker.onerror = () => fail();
    (worker as unknown as { unref(): void }).unref();
    started.push(thread);
  }
  return started;
}

/** A thread failed: everything pending runs in place, and so does every later job. */
function fail(): void {
  if (broken) return;
  broken = true;
  log.warn("A signature helper thread failed: signatures are computed on the event loop from now on (slower, same results)");
  const stranded = [...(threads ?? []).flatMap((t) => t.inflight.flat()), ...queue];
  for (const t of threads ?? []) t.worker.terminate();
  threads = [];
  queue = [];
  for (const p of stranded) runInPlace(p);
}

function runInPlace(p: Pending): void {
  try {
    p.resolve(p.inPlace());
  } catch {
    p.resolve(p.job[0] === "s" ? null : false);
  }
}

/** Batches a thread may hold at once: one being computed and the next waiting, so that a thread
 *  never idles between answers while few messages cross (each costs the event loop µs). */
const MAX_INFLIGHT = 2;

function flush(): void {
  scheduled = false;
  if (!queue.length) return;
  if (broken || !threads?.length) {
    const batch = queue;
    queue = [];
    for (const p of batch) runInPlace(p);
    return;
  }
  // The least busy thread, if one has room; else the jobs wait for an answer (onmessage flushes).
  let thread: Thread | undefined;
  for (let i = 0; i < threads.length; i++) {
    const t = threads[(next + i) % threads.length]!;
    if (t.inflight.length < MAX_INFLIGHT && (!thread || t.inflight.length < thread.inflight.length)) thread = t;
  }
  if (!thread) return;
  next++;
  const batch = queue;
  queue = [];
  thread.inflight.push(batch);
  try {
    thread.worker.postMessage(batch.map((p) => p.job));
  } catch {
    fail();
  }
}

function submit(job: Job, inPlace: () => string | boolean): Promise<string | boolean | null> {
  if (threads === undefined) {
    try {
      threads = desired > 0 ? startThreads(desired) : [];
    } catch {
      threads = [];
    }
  }
  return new Promise((resolve) => {
    if (!threads!.length) return runInPlace({ job, resolve, inPlace });
    queue.push({ job, resolve, inPlace });
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}

/** The base64url JWS signature of `data` (the signing input) with a private key. */
export async function sign(alg: JwsAlg, key: KeyObject, data: string): Promise<string> {
  const out = await submit(["s", alg, derOf(key), "private", data], () => signNow(alg, key, data));
  if (typeof out !== "string") throw new Error("signing failed");
  return out;
}

/** Whether `signatureB64u` is a valid JWS signature of `data` under a public key (never throws). */
export async function verify(alg: JwsAlg, key: KeyObject, data: string, signatureB64u: string): Promise<boolean> {
  return (await submit(["v", alg, derOf(key), "public", data, signatureB64u], () => verifyNow(alg, key, data, signatureB64u))) === true;
}
