// SQL of OAuth clients (table clients). Write functions are added by the admin API work.
import type { Tx } from "../db/sql";
import type { ClientRecord } from "./model";

export async function findClientByClientId(sql: Tx, clientId: string): Promise<ClientRecord | undefined> {
  const [row] = await sql<ClientRecord[]>`SELECT * FROM clients WHERE client_id = ${clientId}`;
  return row;
}
