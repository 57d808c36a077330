-- Issue 17: outgoing mail (an outbox sent by a background worker in every serve process) and the
-- single-use tokens of the self-service flows (password reset, email verification), stored hashed.

CREATE TABLE mail_outbox (
  id bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL,
  recipient text NOT NULL,
  subject text NOT NULL,
  -- Cleared once sent: a sent mail's link must not stay readable in the database.
  text_body text NOT NULL,
  html_body text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  -- A worker's lease while it sends; an expired lease (a crashed worker) makes the row due again.
  locked_until timestamptz,
  last_error text,
  sent_at timestamptz,
  failed_at timestamptz
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE TABLE account_tokens (
  token_hash text PRIMARY KEY,
  purpose text NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  -- For email verification: the address the link verifies (a later change makes it stale).
  email text,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);
CREATE INDEX account_tokens_expires_idx ON account_tokens (expires_at);
