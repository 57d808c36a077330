-- Consent covers the claims a client asked for one by one with the `claims` request parameter
-- (OIDC Core §5.5) beyond those of the consented scopes: remembered per user and client beside
-- the scopes, so a later request for the same claims does not ask again and a new one does.
ALTER TABLE consents ADD COLUMN claims text[] NOT NULL DEFAULT '{}';
