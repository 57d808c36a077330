// Change announcements between nodes: PostgreSQL LISTEN/NOTIFY on a connection of its own (the
// pool's connections are never left listening), and the same announcements within this process.
//
// A trigger NOTIFYs at COMMIT (migration 0015); every node that LISTENs on the channel hears it.
// What cannot be heard is said too: `onDrop` when the listening connection closes (announcements
// are missed from then on) and `onListen` each time LISTEN is in place again (whatever changed
// meanwhile is unknown: a cache flushes). A connection that dies silently is not noticed until TCP
// keepalive gives up; a cache built on this therefore also bounds the age of what it holds.
import postgres from "postgres";
import type { Sql } from "./sql";

export interface ListenHandlers {
  onNotify(payload: string): void;
  /** LISTEN is (again) in place. */
  onListen(): void;
  /** The listening connection closed: announcements are missed until the next onListen. */
  onDrop(): void;
}

export interface ChannelListener {
  /** True while LISTEN is in place on an open connection. */
  readonly listening: boolean;
  stop(): Promise<void>;
}

/** Delay between attempts to (re)establish LISTEN while the database is away. */
const RETRY_MS = 1000;
/** How long the probe NOTIFY may take to come back before LISTEN counts as deaf. */
const PROBE_MS = 5000;
/** Delay before trying again on an engine whose notifications do not arrive (PGlite over its socket). */
const DEAF_RETRY_MS = 60_000;
/** The prefix of the probe's payload (never a client_id: it is followed by 32 random characters). */
const PROBE_PREFIX = "authly-probe:";

/** LISTENs on `channel` with the pool's connection settings (same database, user, search_path). */
export function listenChannel(sql: Sql, channel: string, handlers: ListenHandlers): ChannelListener {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name: ${channel}`);
  const base = (sql as unknown as { options: Record<string, unknown> & { connection?: Record<string, unknown> } }).options;
  let stopped = false;
  let listening = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // LISTEN counts only once a NOTIFY sent through the pool has come back on it: an engine that
  // accepts LISTEN but delivers nothing (PGlite over its socket) never counts as listening.
  let probe: { payload: string; heard: () => void } | undefined;
  const schedule = (ms = RETRY_MS) => {
    clearTimeout(timer);
    timer = setTimeout(() => void attempt(), ms);
    (timer as { unref?: () => void }).unref?.();
  };
  const conn = postgres({
    ...base,
    max: 1,
    idle_timeout: null,
    max_lifetime: null,
    fetch_types: false,
    connection: { ...(base.connection ?? {}), application_name: "authly listener" },
    onnotify: (ch: string, payload: string) => {
      if (ch !== channel) return;
      if (payload.startsWith(PROBE_PREFIX)) {
        if (probe?.payload === payload) probe.heard();
        return;
      }
      handlers.onNotify(payload);
    },
    onclose: () => {
      if (listening) {
        listening = false;
        handlers.onDrop();
      }
      if (!stopped) schedule();
    },
  } as unknown as postgres.Options<Record<string, never>>);
  const attempt = async () => {
    if (stopped) return;
    try {
      await conn.unsafe(`LISTEN ${channel}`);
      if (stopped) return;
      const payload = PROBE_PREFIX + crypto.randomUUID().replaceAll("-", "");
      let probeTimer: ReturnType<typeof setTimeout> | undefined;
      const heard = new Promise<boolean>((resolve) => {
        probe = { payload, heard: () => resolve(true) };
        probeTimer = setTimeout(() => resolve(false), PROBE_MS);
        (probeTimer as { unref?: () => void }).unref?.();
      });
      await sql`SELECT pg_notify(${channel}, ${payload})`;
      const ok = await heard;
      clearTimeout(probeTimer);
      probe = undefined;
      if (stopped) return;
      if (!ok) return schedule(DEAF_RETRY_MS);
      listening = true;
      handlers.onListen();
    } catch {
      probe = undefined;
      if (!stopped) schedule();
    }
  };
  void attempt();
  return {
    get listening() {
      return listening;
    },
    async stop() {
      stopped = true;
      listening = false;
      clearTimeout(timer);
      await conn.end({ timeout: 0 }).catch(() => {});
    },
  };
}

// ---- Within this process: a store announces its own writes at once (before the NOTIFY of the
// COMMIT comes back), so that the node that made a change never serves the old state after it.

/** The channel of client changes (migration 0015's trigger; clients/cache.ts). */
export const CLIENTS_CHANNEL = "authly_clients";
/** The payload that stands for every client. */
export const EVERY_CLIENT = "*";

/** Announces, within this process, that a client row changed (the trigger tells every node at COMMIT). */
export function clientChanged(clientId: string): void {
  announceLocally(CLIENTS_CHANNEL, clientId);
}

type LocalHandler = (payload: string) => void;
const local = new Map<string, Set<LocalHandler>>();

export function announceLocally(channel: string, payload: string): void {
  for (const h of local.get(channel) ?? []) h(payload);
}

/** Subscribes to this process's announcements on `channel`; returns the unsubscribe. */
export function onLocalAnnouncement(channel: string, handler: LocalHandler): () => void {
  let set = local.get(channel);
  if (!set) local.set(channel, (set = new Set()));
  set.add(handler);
  return () => set!.delete(handler);
}
