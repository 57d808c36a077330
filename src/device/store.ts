// SQL of the device authorization grant (table device_codes, migration 0006). Every change of state
// is one conditional UPDATE ... RETURNING, so concurrent requests on any node see one outcome.
import type { Tx } from "../db/sql";
import type { DeviceCodeStatus } from "./model";

export interface DeviceCodeRow {
  id: string;
  device_code_hash: string;
  user_code_hash: string;
  client_id: string;
  scope: string;
  status: DeviceCodeStatus;
  user_id: string | null;
  auth_time: Date | null;
  acr: string | null;
  amr: string[] | null;
  interval_seconds: number;
  last_polled_at: Date | null;
  last_poll_too_fast: boolean;
  created_at: Date;
  decided_at: Date | null;
  redeemed_at: Date | null;
  expires_at: Date;
}

/** Inserts a pending code; false when its user code is held by a live code (draw another). */
export async function insertDeviceCode(
  sql: Tx,
  row: { deviceCodeHash: string; userCodeHash: string; clientId: string; scope: string; intervalSeconds: number; ttlSeconds: number },
): Promise<boolean> {
  const rows = await sql`
    INSERT INTO device_codes (device_code_hash, user_code_hash, client_id, scope, interval_seconds, expires_at)
    VALUES (${row.deviceCodeHash}, ${row.userCodeHash}, ${row.clientId}, ${row.scope}, ${row.intervalSeconds},
            now() + make_interval(secs => ${row.ttlSeconds}))
    ON CONFLICT DO NOTHING
    RETURNING id`;
  return rows.length === 1;
}

/** The pending, unexpired code a user code names (the verification page). */
export async function findPendingByUserCode(sql: Tx, userCodeHash: string): Promise<DeviceCodeRow | undefined> {
  const [row] = await sql<DeviceCodeRow[]>`
    SELECT * FROM device_codes WHERE user_code_hash = ${userCodeHash} AND status = 'pending' AND expires_at > now()`;
  return row;
}

export async function findPendingById(sql: Tx, id: string): Promise<DeviceCodeRow | undefined> {
  const [row] = await sql<DeviceCodeRow[]>`
    SELECT * FROM device_codes WHERE id = ${id} AND status = 'pending' AND expires_at > now()`;
  return row;
}

/** The user's answer; only a pending, unexpired code takes one (once). */
export async function decideDeviceCode(
  sql: Tx,
  input: { id: string; approve: boolean; userId: string; scope: string; authTime: Date; acr: string | null; amr: string[] },
): Promise<boolean> {
  const rows = await sql`
    UPDATE device_codes
    SET status = ${input.approve ? "approved" : "denied"}, user_id = ${input.userId}, scope = ${input.scope},
        auth_time = ${input.authTime}, acr = ${input.acr}, amr = ${input.amr}, decided_at = now()
    WHERE id = ${input.id} AND status = 'pending' AND expires_at > now()
    RETURNING id`;
  return rows.length === 1;
}

export type PolledDeviceCode = DeviceCodeRow & { too_fast: boolean; expired: boolean };

/**
 * One poll of the token endpoint (RFC 8628 §3.5), in one statement: a poll sooner than the code's
 * interval after the previous one is "too fast" and raises the interval by `slowDownSeconds`;
 * every poll restarts the clock. SET sees the row as the previous poll left it (a concurrent poll
 * waits for the row lock and then reads the new values), so two nodes count the same way.
 */
export async function pollDeviceCode(sql: Tx, deviceCodeHash: string, clientId: string, slowDownSeconds: number): Promise<PolledDeviceCode | undefined> {
  const [row] = await sql<PolledDeviceCode[]>`
    UPDATE device_codes d
    SET last_poll_too_fast = (d.status = 'pending' AND d.last_polled_at IS NOT NULL
          AND c.t < d.last_polled_at + make_interval(secs => d.interval_seconds)),
        interval_seconds = d.interval_seconds + CASE WHEN d.status = 'pending' AND d.last_polled_at IS NOT NULL
          AND c.t < d.last_polled_at + make_interval(secs => d.interval_seconds) THEN ${slowDownSeconds}::int ELSE 0 END,
        last_polled_at = c.t
    FROM (SELECT clock_timestamp() AS t) c
    WHERE d.device_code_hash = ${deviceCodeHash} AND d.client_id = ${clientId}
    RETURNING d.*, d.last_poll_too_fast AS too_fast, d.expires_at <= now() AS expired`;
  return row;
}

/** Marks an approved code redeemed; true for exactly one caller. */
export async function redeemDeviceCode(sql: Tx, id: string): Promise<DeviceCodeRow | undefined> {
  const [row] = await sql<DeviceCodeRow[]>`
    UPDATE device_codes SET status = 'redeemed', redeemed_at = now()
    WHERE id = ${id} AND status = 'approved' AND expires_at > now()
    RETURNING *`;
  return row;
}
