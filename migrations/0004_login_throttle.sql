-- Login throttling without an account lockout (NIST SP 800-63B §5.2.2, src/accounts/authenticate.ts).
-- login_failures now holds three kinds of counters: "pair:<account>@<source>" (locked after
-- AUTHLY_LOGIN_MAX_FAILURES), "source:<source>" (locked after 4 x as many) and "account:<account>"
-- (never a lock: a short, growing slow-down for sources the account never signed in from).
-- `account` (a user id, or "name:<login>" for an unknown login name) finds an account's counters for
-- `authly admin user unlock` and `user show`. The counters of the old scheme meant something else:
-- they are dropped (they only ever lived for minutes).
DELETE FROM login_failures;
ALTER TABLE login_failures ADD COLUMN account text;
CREATE INDEX login_failures_account_idx ON login_failures (account) WHERE account IS NOT NULL;

-- Sources (IPv4 address or IPv6 /64) an account signed in from: they skip the account-wide
-- slow-down, so an attacker elsewhere cannot slow its owner down. Remembered for 90 days after the
-- last sign-in (purged after expires_at).
CREATE TABLE login_known_sources (
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  source text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (user_id, source)
);
CREATE INDEX login_known_sources_expires_idx ON login_known_sources (expires_at);
