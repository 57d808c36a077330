// SQL of the branding table: one server-wide row (client_id NULL) and one row per branded client.
import type { Tx } from "../db/sql";
import type { BrandingValues } from "./model";

export interface BrandingRow extends BrandingValues {
  client_id: string | null;
  updated_at: Date;
}

export async function findBranding(sql: Tx, clientId: string | null): Promise<BrandingRow | undefined> {
  const [row] = clientId === null
    ? await sql<BrandingRow[]>`SELECT client_id, product_name, logo_uri, primary_colour, background_colour, text_colour, stylesheet, updated_at FROM branding WHERE client_id IS NULL`
    : await sql<BrandingRow[]>`SELECT client_id, product_name, logo_uri, primary_colour, background_colour, text_colour, stylesheet, updated_at FROM branding WHERE client_id = ${clientId}`;
  return row;
}

/** The server-wide row and the client's row (if any) in one query. */
export async function findPageBranding(sql: Tx, clientId: string | null): Promise<{ server?: BrandingRow; client?: BrandingRow }> {
  const rows = await sql<BrandingRow[]>`
    SELECT client_id, product_name, logo_uri, primary_colour, background_colour, text_colour, stylesheet, updated_at
    FROM branding WHERE client_id IS NULL OR client_id = ${clientId ?? ""}`;
  return { server: rows.find((r) => r.client_id === null), client: rows.find((r) => r.client_id !== null) };
}

export async function saveBranding(sql: Tx, clientId: string | null, v: BrandingValues): Promise<BrandingRow> {
  const [row] = clientId === null
    ? await sql<BrandingRow[]>`
        INSERT INTO branding (client_id, product_name, logo_uri, primary_colour, background_colour, text_colour, stylesheet)
        VALUES (NULL, ${v.product_name}, ${v.logo_uri}, ${v.primary_colour}, ${v.background_colour}, ${v.text_colour}, ${v.stylesheet})
        ON CONFLICT ((client_id IS NULL)) WHERE client_id IS NULL DO UPDATE SET
          product_name = EXCLUDED.product_name, logo_uri = EXCLUDED.logo_uri, primary_colour = EXCLUDED.primary_colour,
          background_colour = EXCLUDED.background_colour, text_colour = EXCLUDED.text_colour, stylesheet = EXCLUDED.stylesheet, updated_at = now()
        RETURNING client_id, product_name, logo_uri, primary_colour, background_colour, text_colour, stylesheet, updated_at`
    : await sql<BrandingRow[]>`
        INSERT INTO branding (client_id, product_name, logo_uri, primary_colour, background_colour, text_colour, stylesheet)
        VALUES (${clientId}, ${v.product_name}, ${v.logo_uri}, ${v.primary_colour}, ${v.background_colour}, ${v.text_colour}, ${v.stylesheet})
        ON CONFLICT (client_id) DO UPDATE SET
          product_name = EXCLUDED.product_name, logo_uri = EXCLUDED.logo_uri, primary_colour = EXCLUDED.primary_colour,
          background_colour = EXCLUDED.background_colour, text_colour = EXCLUDED.text_colour, stylesheet = EXCLUDED.stylesheet, updated_at = now()
        RETURNING client_id, product_name, logo_uri, primary_colour, background_colour, text_colour, stylesheet, updated_at`;
  return row!;
}

export async function deleteBranding(sql: Tx, clientId: string | null): Promise<boolean> {
  const rows = clientId === null ? await sql`DELETE FROM branding WHERE client_id IS NULL RETURNING id` : await sql`DELETE FROM branding WHERE client_id = ${clientId} RETURNING id`;
  return rows.length > 0;
}
