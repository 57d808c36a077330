-- Sign-in factors beside the password (src/authn/): TOTP (RFC 6238) with its secret encrypted at
-- rest and the last step used (each code once), single-use recovery codes stored as keyed hashes,
-- WebAuthn credentials (passkeys and security keys), single-use WebAuthn challenges, and the
-- per-client MFA policy (NULL: the server default, AUTHLY_MFA_POLICY).

CREATE TABLE user_totp (
  user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  -- AES-256-GCM (key derived from JWT_SECRET_KEY, AAD = user id), like private signing keys.
  secret_encrypted text NOT NULL,
  -- NULL until a first valid code confirmed the enrolment; an unconfirmed secret is not a factor.
  confirmed_at timestamptz,
  -- The last time step (unix time / 30) whose code was accepted: a code of this step or earlier is a replay.
  last_used_step bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);

CREATE TABLE user_recovery_codes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  used_at timestamptz
);
CREATE INDEX user_recovery_codes_user_idx ON user_recovery_codes (user_id);

CREATE TABLE webauthn_credentials (
  -- The credential id (base64url), unique across every authenticator.
  id text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name text NOT NULL,
  public_key text NOT NULL,
  sign_count bigint NOT NULL DEFAULT 0,
  transports text[] NOT NULL DEFAULT '{}',
  -- singleDevice (device-bound: amr hwk) or multiDevice (synced: amr swk).
  device_type text NOT NULL CHECK (device_type IN ('singleDevice', 'multiDevice')),
  backed_up boolean NOT NULL DEFAULT false,
  -- Registered with user verification as a discoverable credential: usable alone (a passkey).
  is_passkey boolean NOT NULL DEFAULT true,
  aaguid text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);

-- WebAuthn challenges handed to a page: each one is used once, within its lifetime.
CREATE TABLE webauthn_challenges (
  challenge_hash text PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('register', 'authenticate')),
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  expires_at timestamptz NOT NULL
);
CREATE INDEX webauthn_challenges_expires_idx ON webauthn_challenges (expires_at);

ALTER TABLE clients ADD COLUMN mfa text CHECK (mfa IN ('off', 'optional', 'required'));
