-- API resources (RFC 8707 resource indicators, RFC 9728 protected resources), the resources a
-- client may ask tokens for, the resources an authorization code, a grant and a consent cover,
-- and dynamic client registration (RFC 7591 initial access tokens, RFC 7592 registration access
-- tokens). Tokens are stored only as hashes.
CREATE TABLE api_resources (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  identifier text NOT NULL UNIQUE,
  name text NOT NULL,
  -- [{ "name": "...", "description": "..." }], names unique within the resource.
  scopes jsonb NOT NULL DEFAULT '[]',
  access_token_ttl integer,
  access_token_alg text CHECK (access_token_alg IN ('RS256', 'ES256', 'EdDSA')),
  may_introspect boolean NOT NULL DEFAULT true,
  allow_any_client boolean NOT NULL DEFAULT false,
  -- The confidential client record whose credentials the resource server authenticates with.
  credentials_client_id text UNIQUE REFERENCES clients(client_id) ON DELETE SET NULL,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE clients ADD COLUMN resources text[] NOT NULL DEFAULT '{}';
ALTER TABLE clients ADD COLUMN default_resource text;
ALTER TABLE authorization_codes ADD COLUMN resources text[] NOT NULL DEFAULT '{}';
ALTER TABLE grants ADD COLUMN resources text[] NOT NULL DEFAULT '{}';
ALTER TABLE consents ADD COLUMN resources text[] NOT NULL DEFAULT '{}';

CREATE TABLE registration_tokens (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash text NOT NULL UNIQUE,
  max_uses integer NOT NULL CHECK (max_uses > 0),
  uses integer NOT NULL DEFAULT 0,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX registration_tokens_expires_idx ON registration_tokens (expires_at);

CREATE TABLE client_registrations (
  client_id text PRIMARY KEY REFERENCES clients(client_id) ON DELETE CASCADE,
  access_token_hash text NOT NULL UNIQUE,
  initial_token_id uuid REFERENCES registration_tokens(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
