// A per-process cache of client records for client authentication (token, introspection and
// revocation endpoints): the secret hash, `is_active`, the token revocation watermark and the rest
// of the row, so that issuing a client_credentials token needs no database round trip.
//
// Invalidation, on every node at once: a trigger announces each change to a client row at COMMIT
// (PostgreSQL NOTIFY on `authly_clients`, migration 0015); each node LISTENs (db/notify.ts) and
// forgets that client. The node that writes also forgets it at once (announceLocally) and caches
// nothing for it until its NOTIFY comes back. Bounded staleness, for what NOTIFY cannot promise:
//  - while the listening connection is down nothing is served from the cache, and on every
//    (re)LISTEN the cache is flushed (changes made meanwhile were not heard);
//  - an entry is never older than AUTHLY_CLIENT_CACHE_SECONDS (counted from before the read that
//    filled it): a notification lost on a connection that looks alive delays a change by at most that.
// AUTHLY_CLIENT_CACHE_SECONDS=0 turns the cache off. Unknown client_ids are not cached (so a new
// client needs no announcement).
import type { Sql } from "../db/sql";
import { CLIENTS_CHANNEL, EVERY_CLIENT, listenChannel, onLocalAnnouncement, type ChannelListener } from "../db/notify";
import type { ClientRecord } from "./model";
import { loadClient } from "./store";

/** Entries kept at most (the oldest goes first). */
const MAX_ENTRIES = 10_000;

export class ClientCache {
  private readonly entries = new Map<string, { record: ClientRecord; at: number }>();
  /** Clients changed here whose NOTIFY has not come back yet: not cached until then (or the bound). */
  private readonly held = new Map<string, number>();
  private holdAllUntil = 0;
  /** Bumped on every change heard: a read that started before it does not fill the cache. */
  private generation = 0;
  private feed?: ChannelListener;
  private unsubscribe?: () => void;

  constructor(private readonly sql: Sql, private readonly maxAgeMs: number) {}

  /** Starts listening (a server does; without it the cache only passes reads through). */
  start(): void {
    if (this.maxAgeMs <= 0 || this.feed) return;
    this.unsubscribe = onLocalAnnouncement(CLIENTS_CHANNEL, (id) => this.changedHere(id));
    this.feed = listenChannel(this.sql, CLIENTS_CHANNEL, {
      onNotify: (id) => this.heard(id),
      onListen: () => this.flush(),
      onDrop: () => this.flush(),
    });
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const feed = this.feed;
    this.feed = undefined;
    this.flush();
    await feed?.stop();
  }

  /** True while entries may be served (listening, cache on). */
  get active(): boolean {
    return this.feed?.listening === true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The client's record: from the cache while it is fresh and listening, else from the database. */
  async load(clientId: string): Promise<ClientRecord | undefined> {
    if (!this.active) return loadClient(this.sql, clientId);
    const now = performance.now();
    const hit = this.entries.get(clientId);
    if (hit && now - hit.at < this.maxAgeMs) return hit.record;
    if (hit) this.entries.delete(clientId);
    const generation = this.generation;
    const record = await loadClient(this.sql, clientId);
    if (record && this.active && generation === this.generation && !this.isHeld(clientId, performance.now())) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(clientId, { record, at: now });
    }
    return record;
  }

  private isHeld(clientId: string, now: number): boolean {
    if (now < this.holdAllUntil) return true;
    const until = this.held.get(clientId);
    if (until === undefined) return false;
    if (now < until) return true;
    this.held.delete(clientId);
    return false;
  }

  private flush(): void {
    this.generation++;
    this.entries.clear();
  }

  /** A change made by this process (its transaction may not have committed yet). */
  private changedHere(clientId: string): void {
    this.generation++;
    const until = performance.now() + this.maxAgeMs;
    if (clientId === EVERY_CLIENT) {
      this.entries.clear();
      this.holdAllUntil = until;
    } else {
      this.entries.delete(clientId);
      if (this.held.size < MAX_ENTRIES) this.held.set(clientId, until);
      else this.holdAllUntil = until;
    }
  }

  /** A committed change announced by the database (from any node, this one included). */
  private heard(clientId: string): void {
    this.generation++;
    if (clientId === EVERY_CLIENT) {
      this.entries.clear();
      this.held.clear();
      this.holdAllUntil = 0;
    } else {
      this.entries.delete(clientId);
      this.held.delete(clientId);
    }
  }
}
