// Micro-batching of lookups by key: every lookup requested within one event-loop turn is answered
// by one query for all their keys (the DataLoader pattern, without its cache). Under load this
// turns N round trips into one; alone, a lookup costs one extra turn of the loop.
// Failures stay with their key: a batch that fails is retried key by key, so one caller's bad key
// (say a value PostgreSQL refuses) never fails the other callers that happened to share its batch.

export type BatchFetch<K, V> = (keys: K[]) => Promise<Map<K, V>>;

export interface BatchOptions<K> {
  /** Most keys in one fetch (default 500). */
  maxBatch?: number;
  /** Keys that can never be found (e.g. text PostgreSQL cannot hold): answered `undefined` at once,
   *  without reaching the fetch. */
  impossibleKey?: (key: K) => boolean;
  /** Whether a batch's failure may be the fault of one key, and so is worth retrying each key alone
   *  (default: always). Say no for failures that would fail every key alike, e.g. a database that
   *  is down, so that an outage does not multiply the queries. */
  retryAlone?: (err: unknown) => boolean;
  /** Most fetches running at once (default: no limit). Keys that arrive meanwhile wait for a
   *  fetch to end and then go together: under load the batches grow instead of the statements
   *  (group commit, as PostgreSQL does for WAL flushes), at the price of one fetch's latency. */
  maxInFlight?: number;
}

type Waiter<V> = { resolve(v: V | undefined): void; reject(e: unknown): void };

export class BatchLoader<K, V> {
  private pending = new Map<K, Waiter<V>[]>();
  private scheduled = false;
  private inFlight = 0;
  private readonly maxBatch: number;
  constructor(
    private readonly fetch: BatchFetch<K, V>,
    private readonly options: BatchOptions<K> = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
  }

  load(key: K): Promise<V | undefined> {
    if (this.options.impossibleKey?.(key)) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
      if (this.pending.size >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const limit = this.options.maxInFlight ?? Number.POSITIVE_INFINITY;
    while (this.pending.size && this.inFlight < limit) {
      let batch = this.pending;
      if (batch.size > this.maxBatch) {
        // The first maxBatch keys go now; the rest wait for the next fetch.
        const entries = [...batch];
        batch = new Map(entries.slice(0, this.maxBatch));
        this.pending = new Map(entries.slice(this.maxBatch));
      } else this.pending = new Map();
      this.inFlight++;
      this.run(batch, batch.size > 1, () => {
        this.inFlight--;
        if (this.pending.size && !this.scheduled) this.flush();
      });
    }
  }

  /** Fetches the batch; on failure, each key alone once (one level deep: at most size + 1 fetches). */
  private run(batch: Map<K, Waiter<V>[]>, mayRetry: boolean, done: () => void = () => {}): void {
    this.fetch([...batch.keys()]).then(
      (found) => {
        done();
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key));
      },
      (err) => {
        done();
        if (mayRetry && (this.options.retryAlone?.(err) ?? true)) {
          for (const [key, waiters] of batch) this.run(new Map([[key, waiters]]), false);
          return;
        }
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}

/** One loader per owner object (e.g. per connection pool), created on first use. */
export function loaderFor<O extends object, K, V>(cache: WeakMap<O, BatchLoader<K, V>>, owner: O, fetch: (owner: O) => BatchFetch<K, V>, options?: BatchOptions<K>): BatchLoader<K, V> {
  let l = cache.get(owner);
  if (!l) cache.set(owner, (l = new BatchLoader(fetch(owner), options)));
  return l;
}
