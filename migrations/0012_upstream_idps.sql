-- Upstream identity providers (federation): registered providers, the identities linked to local
-- users, and the short-lived state of a sign-in in progress at an upstream.
CREATE TABLE upstream_idps (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('oidc', 'oauth2')),
  issuer text,
  authorization_endpoint text NOT NULL,
  token_endpoint text NOT NULL,
  userinfo_endpoint text,
  jwks_uri text,
  client_id text NOT NULL,
  client_secret_sealed text,
  scopes text[] NOT NULL DEFAULT '{}',
  claim_mapping jsonb NOT NULL DEFAULT '{}'::jsonb,
  create_users boolean NOT NULL DEFAULT true,
  is_enabled boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_identities (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  idp_id uuid NOT NULL REFERENCES upstream_idps(id) ON DELETE CASCADE,
  subject text NOT NULL,
  email text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  UNIQUE (idp_id, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

CREATE TABLE upstream_flows (
  state_hash text PRIMARY KEY,
  browser_hash text NOT NULL,
  idp_id uuid NOT NULL REFERENCES upstream_idps(id) ON DELETE CASCADE,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  interaction_sealed text,
  link_session_id uuid,
  expires_at timestamptz NOT NULL
);
CREATE INDEX upstream_flows_expiry ON upstream_flows (expires_at);

-- The provider a session was signed in through (NULL: a local sign-in on this server).
ALTER TABLE sessions ADD COLUMN upstream_idp_id uuid REFERENCES upstream_idps(id) ON DELETE SET NULL;
