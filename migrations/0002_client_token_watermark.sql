-- Access tokens of client_credentials are no longer recorded one by one (they belong to no grant
-- and no user): a revocation records the token itself, and deactivating or deleting a client
-- stamps this column, which revokes every client token issued up to that second.
ALTER TABLE clients ADD COLUMN access_tokens_revoked_at timestamptz;
