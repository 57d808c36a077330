-- Issue 17: self sign-up and the account page's email change. A sign-up waiting for its address to be
-- confirmed is a pending request (no account exists until the link is followed, so an unverified
-- sign-up cannot sign in); invites are single-use links an admin creates. Tokens stored as HMACs.

CREATE TABLE signup_requests (
  token_hash text PRIMARY KEY,
  username text NOT NULL,
  email text NOT NULL,
  password_hash text NOT NULL,
  name text,
  -- The sign-in (interaction id) the sign-up started from: the confirmation leads back to it.
  interaction text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX signup_requests_expires_idx ON signup_requests (expires_at);

CREATE TABLE signup_invites (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  token_hash text NOT NULL UNIQUE,
  email text NOT NULL,
  -- Whether the link went to the address by mail (then following it proves the mailbox).
  mailed boolean NOT NULL,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  used_by uuid REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX signup_invites_expires_idx ON signup_invites (expires_at);

-- An email change waits for the new address to be confirmed: the token carries the new address.
ALTER TABLE account_tokens DROP CONSTRAINT account_tokens_purpose_check;
ALTER TABLE account_tokens ADD CONSTRAINT account_tokens_purpose_check CHECK (purpose IN ('password_reset', 'email_verification', 'email_change'));
