-- Branding without a rebuild (issue 17): product name, logo, colours and an extra stylesheet,
-- server-wide (client_id NULL, one row) and per client (deleted with the client).
CREATE TABLE branding (
  id bigserial PRIMARY KEY,
  client_id text UNIQUE REFERENCES clients (client_id) ON DELETE CASCADE,
  product_name text CHECK (char_length(product_name) BETWEEN 1 AND 64),
  logo_uri text CHECK (octet_length(logo_uri) <= 90000),
  primary_colour text CHECK (char_length(primary_colour) <= 64),
  background_colour text CHECK (char_length(background_colour) <= 64),
  text_colour text CHECK (char_length(text_colour) <= 64),
  stylesheet text CHECK (octet_length(stylesheet) <= 32768),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- At most one server-wide row.
CREATE UNIQUE INDEX branding_server_one ON branding ((client_id IS NULL)) WHERE client_id IS NULL;
