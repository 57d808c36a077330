// JWS signatures (RFC 7518 §3) computed on helper threads: signing our tokens and checking DPoP
// proofs and our own JWTs are most of the CPU of a token, introspection or UserInfo request
// (ES256 sign ~20 µs, ES256 verify ~70 µs, RS256 sign ~1 ms here), and the event loop that serves
// HTTP is one thread. Jobs go to a thread as one message per batch: a batch leaves when it holds
// EAGER_BATCH jobs or when the event loop's turn ends, whichever comes first, and a thread holds at
// most MAX_INFLIGHT batches (jobs arriving meanwhile wait and go together), so under load a message
// carries several jobs (a few µs of the event loop's time per message instead of the signatures),
// while the thread signs one part of a turn's jobs as the event loop reads the next. Each thread
// answers its messages in order. AUTHLY_CRYPTO_THREADS sets how many threads a process
// starts (default 1; 0 computes everything on the event loop, as does any failure of a thread:
// the jobs then run in place).
// Threads start at the first job (an idle server has none) and do not keep the process alive.
//
// Keys travel as DER (private keys as PKCS #8, public as SPKI), exported once per KeyObject and
// sent to each thread once; later jobs name them by a number (a thread holds at most
// THREAD_MAX_KEYS, then forgets them all and is sent them again). Nothing here logs a key or a
// signature input.
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
// compiled binary). A message is one string, a line per entry and tab-separated fields (one
// string crosses threads in a few µs whatever its length; an array of jobs costs ~2 µs a job):
//   k <id> <private|public> <DER, base64>   a key, sent once to each thread before its first job
//   c                                         forget every key (the sender's bound was reached)
//   s <alg> <key id> <data>                   sign: answers the base64url signature ("" if it failed)
//   v <alg> <key id> <data> <signature>       verify: answers "1" or "0"
// The answer is one string, a line per s/v job, in order.
const THREAD_SOURCE = `
const { constants, createPrivateKey, createPublicKey, sign, verify } = require("node:crypto");
const keys = new Map();
function args(alg, key) {
  if (alg === "ES256") return ["sha256", { key, dsaEncoding: "ieee-p1363" }];
  if (alg === "EdDSA") return [null, key];
  if (alg === "PS256") return ["sha256", { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }];
  if (alg === "RS256") return ["sha256", key];
  throw new Error("alg");
}
self.onmessage = (event) => {
  const out = [];
  for (const line of event.data.split("\\n")) {
    const f = line.split("\\t");
    const op = f[0];
    if (op === "k") {
      try {
        const der = Buffer.from(f[3], "base64");
        keys.set(f[1], f[2] === "private" ? createPrivateKey({ key: der, format: "der", type: "pkcs8" }) : createPublicKey({ key: der, format: "der", type: "spki" }));
      } catch {
        keys.delete(f[1]);
      }
      continue;
    }
    if (op === "c") {
      keys.clear();
      continue;
    }
    try {
      const [hash, k] = args(f[1], keys.get(f[2]));
      out.push(op === "s" ? sign(hash, Buffer.from(f[3]), k).toString("base64url") : verify(hash, Buffer.from(f[3]), k, Buffer.from(f[4], "base64url")) ? "1" : "0");
    } catch {
      out.push(op === "s" ? "" : "0");
    }
  }
  postMessage(out.join("\\n"));
};
`;

type Job = { op: "s" | "v"; alg: JwsAlg; key: KeyObject; data: string; sig?: string };
interface Pending {
  job: Job;
  resolve: (value: string | boolean | null) => void;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not yet answered, oldest first (a thread answers in order). */
  inflight: Pending[][];
  /** Ids of the keys this thread holds. */
  keys: Set<number>;
}

/** A key's id and DER (private keys as PKCS #8, public as SPKI), made once per KeyObject. */
type KeyRef = { id: number; der: string };
const keyRefs = new WeakMap<KeyObject, KeyRef>();
let lastKeyId = 0;
function keyRef(key: KeyObject): KeyRef {
  let ref = keyRefs.get(key);
  if (!ref) {
    const der = (key.type === "private" ? key.export({ format: "der", type: "pkcs8" }) : key.export({ format: "der", type: "spki" })).toString("base64");
    ref = { id: ++lastKeyId, der };
    keyRefs.set(key, ref);
  }
  return ref;
}
/** Keys a thread holds at most: past it, the thread forgets them all and is sent them again. */
const THREAD_MAX_KEYS = 4096;

/** The message carrying a batch to a thread: its keys the thread lacks, then one line per job. */
function message(thread: Thread, batch: Pending[]): string {
  const lines: string[] = [];
  for (const { job } of batch) {
    const ref = keyRef(job.key);
    if (!thread.keys.has(ref.id)) {
      if (thread.keys.size >= THREAD_MAX_KEYS) {
        thread.keys.clear();
        lines.push("c");
      }
      thread.keys.add(ref.id);
      lines.push(`k\t${ref.id}\t${job.key.type}\t${ref.der}`);
    }
    lines.push(job.op === "s" ? `s\t${job.alg}\t${ref.id}\t${job.data}` : `v\t${job.alg}\t${ref.id}\t${job.data}\t${job.sig}`);
  }
  return lines.join("\n");
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
    const thread: Thread = { worker, inflight: [], keys: new Set() };
    worker.onmessage = (event: MessageEvent) => {
      const batch = thread.inflight.shift();
      const results = (event.data as string).split("\n");
      batch?.forEach((p, j) => {
        const out = results[j];
        p.resolve(p.job.op === "s" ? out || null : out === "1");
      });
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

/** Runs a job on this thread (no helper thread, a failed one, or an input a message cannot carry). */
function runInPlace(p: Pending): void {
  const { op, alg, key, data, sig } = p.job;
  try {
    p.resolve(op === "s" ? signNow(alg, key, data) : verifyNow(alg, key, data, sig!));
  } catch {
    p.resolve(p.job.op === "s" ? null : false);
  }
}

/** Batches a thread may hold at once (a few µs of the event loop each). */
const MAX_INFLIGHT = 8;
/** A batch leaves as soon as it has this many jobs, not only when the event loop's turn ends: a
 *  turn that reads many requests would otherwise keep the thread idle until its end and then leave
 *  the event loop idle while the thread signs the whole turn's jobs (the two alternate instead of
 *  working together). */
const EAGER_BATCH = 8;

function flush(): void {
  scheduled = false;
  send();
}

function send(): void {
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
    thread.worker.postMessage(message(thread, batch));
  } catch {
    fail();
  }
}

const SEPARATORS = /[\t\n]/;

function submit(job: Job): Promise<string | boolean | null> {
  if (threads === undefined) {
    try {
      threads = desired > 0 ? startThreads(desired) : [];
    } catch {
      threads = [];
    }
  }
  return new Promise((resolve) => {
    // A tab or line break would break the message's lines (base64url never has one): in place.
    if (!threads!.length || SEPARATORS.test(job.data) || (job.sig !== undefined && SEPARATORS.test(job.sig))) return runInPlace({ job, resolve });
    queue.push({ job, resolve });
    if (queue.length >= EAGER_BATCH) send();
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}

/** The base64url JWS signature of `data` (the signing input) with a private key. */
export async function sign(alg: JwsAlg, key: KeyObject, data: string): Promise<string> {
  const out = await submit({ op: "s", alg, key, data });
  if (typeof out !== "string") throw new Error("signing failed");
  return out;
}

/** Whether `signatureB64u` is a valid JWS signature of `data` under a public key (never throws). */
export async function verify(alg: JwsAlg, key: KeyObject, data: string, signatureB64u: string): Promise<boolean> {
  return (await submit({ op: "v", alg, key, data, sig: signatureB64u })) === true;
}
