-- Federation, continued: back-channel logout from upstreams (OpenID Connect Back-Channel Logout 1.0
-- §2.5-2.8, as the relying party) and private_key_jwt client authentication to upstream token
-- endpoints (RFC 7523 §2.2, OIDC Core §9).

-- What the upstream said about the session it signed the user in with: the ID token's `sub` and
-- `sid`, so a logout token naming either ends exactly the sessions created through it.
ALTER TABLE sessions ADD COLUMN upstream_sub text;
ALTER TABLE sessions ADD COLUMN upstream_sid text;
CREATE INDEX sessions_upstream_sub ON sessions (upstream_idp_id, upstream_sub) WHERE upstream_sub IS NOT NULL AND revoked_at IS NULL;
CREATE INDEX sessions_upstream_sid ON sessions (upstream_idp_id, upstream_sid) WHERE upstream_sid IS NOT NULL AND revoked_at IS NULL;

-- How we authenticate at the upstream's token endpoint. Existing providers keep what they did:
-- client_secret_basic with a secret, a public client without one.
ALTER TABLE upstream_idps ADD COLUMN token_endpoint_auth_method text;
UPDATE upstream_idps SET token_endpoint_auth_method = CASE WHEN client_secret_sealed IS NULL THEN 'none' ELSE 'client_secret_basic' END;
ALTER TABLE upstream_idps ALTER COLUMN token_endpoint_auth_method SET NOT NULL;
ALTER TABLE upstream_idps ADD CONSTRAINT upstream_idps_auth_method CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'));
-- The provider's own key pair for private_key_jwt: the private JWK sealed (AES-256-GCM, like the
-- signing keys), the public JWK served at /federation/jwks/<slug>.
ALTER TABLE upstream_idps ADD COLUMN client_key_kid text;
ALTER TABLE upstream_idps ADD COLUMN client_key_alg text CHECK (client_key_alg IN ('RS256', 'ES256'));
ALTER TABLE upstream_idps ADD COLUMN client_key_public jsonb;
ALTER TABLE upstream_idps ADD COLUMN client_key_sealed text;

-- Logout tokens seen (jti, per provider): a replay is refused until the token would have expired.
CREATE TABLE upstream_logout_jtis (
  idp_id uuid NOT NULL REFERENCES upstream_idps(id) ON DELETE CASCADE,
  jti_hash text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (idp_id, jti_hash)
);
CREATE INDEX upstream_logout_jtis_expiry ON upstream_logout_jtis (expires_at);
