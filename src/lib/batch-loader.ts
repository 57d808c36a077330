// Micro-batching of lookups by key: every lookup requested within one event-loop turn is answered
// by one query for all their keys (the DataLoader pattern, without its cache). Under load this
// turns N round trips into one; alone, a lookup costs one extra turn of the loop.

export type BatchFetch<K, V> = (keys: K[]) => Promise<Map<K, V>>;

export class BatchLoader<K, V> {
  private pending = new Map<K, { resolve(v: V | undefined): void; reject(e: unknown): void }[]>();
  private scheduled = false;
  constructor(
    private readonly fetch: BatchFetch<K, V>,
    private readonly maxBatch = 500,
  ) {}

  load(key: K): Promise<V | undefined> {
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
    if (!this.pending.size) return;
    const batch = this.pending;
    this.pending = new Map();
    this.fetch([...batch.keys()]).then(
      (found) => {
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key));
      },
      (err) => {
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }
}

/** One loader per owner object (e.g. per connection pool), created on first use. */
export function loaderFor<O extends object, K, V>(cache: WeakMap<O, BatchLoader<K, V>>, owner: O, fetch: (owner: O) => BatchFetch<K, V>): BatchLoader<K, V> {
  let l = cache.get(owner);
  if (!l) cache.set(owner, (l = new BatchLoader(fetch(owner))));
  return l;
}
