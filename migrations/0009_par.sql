-- Pushed authorization requests (RFC 9126): the validated parameters of a pushed request, kept
-- until the client's one follow-up at the authorization endpoint (any node may serve it). The
-- request_uri is a bearer reference, so only its hash is stored. Per client, PAR may be required
-- (RFC 9126 §6 require_pushed_authorization_requests).
CREATE TABLE pushed_authorization_requests (
  request_uri_hash text PRIMARY KEY,
  client_id text NOT NULL,
  params jsonb NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pushed_authorization_requests_expires_idx ON pushed_authorization_requests (expires_at);

ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests boolean NOT NULL DEFAULT false;
