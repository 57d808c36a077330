-- DPoP (RFC 9449) and the FAPI 2.0 Security Profile mode.
-- dpop_jtis: the jti of every accepted DPoP proof (hashed with the key's thumbprint: a jti is
-- unique per key, §11.1), kept until the proof's iat window has passed, so that a proof replayed
-- at any node is refused (§4.3 check 11). Purged by the maintenance job.
CREATE TABLE dpop_jtis (
  jti_hash text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
CREATE INDEX dpop_jtis_expires_idx ON dpop_jtis (expires_at);

-- RFC 9449 §10: a code bound to a key (dpop_jkt at the authorization or PAR endpoint); §5: a
-- public client's refresh tokens bound to the key of the proof that obtained them (on the grant).
ALTER TABLE authorization_codes ADD COLUMN dpop_jkt text;
ALTER TABLE grants ADD COLUMN dpop_jkt text;

-- RFC 9449 §5.2 client metadata; FAPI 2.0 Security Profile mode per client (null: the server's).
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens boolean NOT NULL DEFAULT false;
ALTER TABLE clients ADD COLUMN fapi_profile text CHECK (fapi_profile IN ('fapi2-security', 'none'));
