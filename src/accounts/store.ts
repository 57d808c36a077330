// SQL of user accounts (table users). Write functions are added by the admin API work.
import type { Tx } from "../db/sql";
import type { UserRecord } from "./model";

export async function findUserById(sql: Tx, id: string): Promise<UserRecord | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = await sql<UserRecord[]>`SELECT * FROM users WHERE id = ${id}`;
  return row;
}

/** Login name: username or email, case-insensitive. */
export async function findUserByLogin(sql: Tx, login: string): Promise<UserRecord | undefined> {
  const [row] = await sql<UserRecord[]>`
    SELECT * FROM users WHERE lower(username) = lower(${login}) OR lower(email) = lower(${login})
    ORDER BY (lower(username) = lower(${login})) DESC LIMIT 1`;
  return row;
}
