-- Authly schema, version 1: accounts, clients, scopes, signing keys, grants and tokens, browser
-- sessions, consent, rate limits, lockouts and the audit log. Secrets are stored only as hashes
-- (HMAC-SHA-256 with a server pepper, or argon2id for passwords); private keys only encrypted.

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username text NOT NULL,
  email text,
  email_verified boolean NOT NULL DEFAULT false,
  password_hash text,
  is_active boolean NOT NULL DEFAULT true,
  is_admin boolean NOT NULL DEFAULT false,
  requires_password_change boolean NOT NULL DEFAULT false,
  name text,
  given_name text,
  family_name text,
  middle_name text,
  nickname text,
  preferred_username text,
  profile text,
  picture text,
  website text,
  gender text,
  birthdate text,
  zoneinfo text,
  locale text,
  phone_number text,
  phone_number_verified boolean NOT NULL DEFAULT false,
  address jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email)) WHERE email IS NOT NULL;

CREATE TABLE scopes (
  name text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  is_default boolean NOT NULL DEFAULT false,
  is_active boolean NOT NULL DEFAULT true,
  is_system boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO scopes (name, description, is_default, is_system) VALUES
  ('openid', 'OpenID Connect sign-in', false, true),
  ('profile', 'Your basic profile: name, picture, locale', false, true),
  ('email', 'Your email address', false, true),
  ('address', 'Your postal address', false, true),
  ('phone', 'Your phone number', false, true),
  ('offline_access', 'Stay signed in (refresh tokens)', false, true),
  ('admin:clients:read', 'Read OAuth clients (admin API)', false, true),
  ('admin:clients:write', 'Create, change and delete OAuth clients (admin API)', false, true),
  ('admin:scopes:read', 'Read scopes (admin API)', false, true),
  ('admin:scopes:write', 'Create, change and delete scopes (admin API)', false, true),
  ('admin:users:read', 'Read user accounts (admin API)', false, true),
  ('admin:users:write', 'Create, change and deactivate user accounts (admin API)', false, true),
  ('admin:system:read', 'Read system status and signing keys (admin API)', false, true),
  ('admin:system:write', 'Rotate signing keys and change system settings (admin API)', false, true);

CREATE TABLE clients (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id text NOT NULL UNIQUE,
  client_type text NOT NULL CHECK (client_type IN ('public', 'confidential')),
  client_name text NOT NULL,
  secret_hash text,
  previous_secret_hash text,
  previous_secret_expires_at timestamptz,
  redirect_uris text[] NOT NULL DEFAULT '{}',
  post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
  grant_types text[] NOT NULL DEFAULT '{authorization_code,refresh_token}',
  response_types text[] NOT NULL DEFAULT '{code}',
  scopes text[] NOT NULL DEFAULT '{}',
  token_endpoint_auth_method text NOT NULL DEFAULT 'client_secret_basic'
    CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none')),
  jwks jsonb,
  jwks_uri text,
  client_uri text,
  logo_uri text,
  tos_uri text,
  policy_uri text,
  contacts text[] NOT NULL DEFAULT '{}',
  id_token_signed_response_alg text NOT NULL DEFAULT 'RS256',
  access_token_ttl integer,
  refresh_token_ttl integer,
  require_consent boolean NOT NULL DEFAULT true,
  is_first_party boolean NOT NULL DEFAULT false,
  backchannel_logout_uri text,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((client_type = 'public') = (token_endpoint_auth_method = 'none'))
);

CREATE TABLE signing_keys (
  kid text PRIMARY KEY,
  alg text NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
  state text NOT NULL CHECK (state IN ('next', 'active', 'retired', 'revoked')),
  public_jwk jsonb NOT NULL,
  private_jwk_encrypted text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  activated_at timestamptz,
  retired_at timestamptz,
  -- A retired key stays in the JWKS until every token it signed has expired.
  publish_until timestamptz
);
-- At most one active key per algorithm.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (alg) WHERE state = 'active';

-- A grant: one authorization (code exchange, password login, client_credentials) and every token
-- issued from it. Revoking a grant revokes its whole refresh-token family and access tokens.
CREATE TABLE grants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id text NOT NULL,
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  grant_type text NOT NULL,
  scope text NOT NULL DEFAULT '',
  session_id uuid,
  auth_time timestamptz,
  code_hash text,
  nonce text,
  acr text,
  amr text[],
  claims jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);
CREATE INDEX grants_user_idx ON grants (user_id) WHERE revoked_at IS NULL;
CREATE INDEX grants_code_idx ON grants (code_hash) WHERE code_hash IS NOT NULL;
CREATE INDEX grants_expires_idx ON grants (expires_at);

CREATE TABLE authorization_codes (
  code_hash text PRIMARY KEY,
  client_id text NOT NULL,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  redirect_uri text NOT NULL,
  scope text NOT NULL,
  nonce text,
  code_challenge text NOT NULL,
  code_challenge_method text NOT NULL DEFAULT 'S256',
  session_id uuid,
  auth_time timestamptz NOT NULL,
  acr text,
  amr text[],
  claims jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  consumed_at timestamptz
);
CREATE INDEX authorization_codes_expires_idx ON authorization_codes (expires_at);

CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  grant_id uuid NOT NULL REFERENCES grants(id) ON DELETE CASCADE,
  client_id text NOT NULL,
  user_id uuid,
  scope text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  rotated_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX refresh_tokens_grant_idx ON refresh_tokens (grant_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- Access tokens are JWTs; each issued one is recorded so it can be revoked and introspected.
CREATE TABLE access_tokens (
  jti text PRIMARY KEY,
  grant_id uuid REFERENCES grants(id) ON DELETE CASCADE,
  client_id text NOT NULL,
  user_id uuid,
  scope text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX access_tokens_grant_idx ON access_tokens (grant_id);
CREATE INDEX access_tokens_expires_idx ON access_tokens (expires_at);

-- private_key_jwt client assertions: jti replay protection (RFC 7523 §3).
CREATE TABLE client_assertion_jtis (
  jti_hash text PRIMARY KEY,
  client_id text NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX client_assertion_jtis_expires_idx ON client_assertion_jtis (expires_at);

-- Browser SSO sessions: the cookie holds an opaque value; only its hash is stored.
CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash text NOT NULL UNIQUE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  auth_time timestamptz NOT NULL,
  amr text[] NOT NULL DEFAULT '{pwd}',
  acr text,
  user_agent text,
  source_ip text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  idle_expires_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- Short-lived state of one authorization request between the authorize endpoint, login and
-- consent pages (keeps the request server-side so every worker and node can continue it).
CREATE TABLE interactions (
  id_hash text PRIMARY KEY,
  client_id text NOT NULL,
  params jsonb NOT NULL,
  session_id uuid,
  csrf_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX interactions_expires_idx ON interactions (expires_at);

CREATE TABLE consents (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  client_id text NOT NULL,
  scopes text[] NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, client_id)
);

-- Fixed-window counters shared by every worker and node.
CREATE TABLE rate_limits (
  key text NOT NULL,
  window_start timestamptz NOT NULL,
  count integer NOT NULL DEFAULT 0,
  PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);

-- Login throttling: failures per account and per source, with a temporary lockout.
CREATE TABLE login_failures (
  key text PRIMARY KEY,
  failures integer NOT NULL DEFAULT 0,
  last_failure_at timestamptz NOT NULL DEFAULT now(),
  locked_until timestamptz
);

CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  actor text,
  action text NOT NULL,
  target_type text,
  target_id text,
  outcome text NOT NULL DEFAULT 'success',
  source_ip text,
  details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at);
CREATE INDEX audit_log_action_idx ON audit_log (action, occurred_at);
