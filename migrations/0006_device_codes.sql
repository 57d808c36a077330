-- The device authorization grant (RFC 8628, src/device/). A device code and its user code are kept
-- only as HMACs under the tokens pepper (like authorization codes): a copy of the database gives
-- neither. `status` moves pending -> approved | denied -> redeemed (approved only), each step one
-- conditional UPDATE, so a code is approved once and redeemed once whatever node answers.
-- `interval_seconds` and `last_polled_at` are the polling state of RFC 8628 §3.5 (slow_down adds
-- 5 s), kept here so every node sees the same interval.
CREATE TABLE device_codes (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  device_code_hash text NOT NULL UNIQUE,
  user_code_hash text NOT NULL,
  client_id text NOT NULL,
  scope text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'redeemed')),
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  auth_time timestamptz,
  acr text,
  amr text[],
  interval_seconds integer NOT NULL CHECK (interval_seconds > 0),
  last_polled_at timestamptz,
  -- Whether the latest poll came sooner than the interval allowed (answered slow_down).
  last_poll_too_fast boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  redeemed_at timestamptz,
  expires_at timestamptz NOT NULL
);
-- A user code names one code while it can still be approved or redeemed; an expired one keeps its
-- place until the purge removes it (a new code that collides is drawn again).
CREATE UNIQUE INDEX device_codes_user_code_live_idx ON device_codes (user_code_hash) WHERE status IN ('pending', 'approved');
CREATE INDEX device_codes_expires_idx ON device_codes (expires_at);

-- The admin CLI signs in through the device grant too (`authly admin auth login --device`): the
-- built-in client of databases bootstrapped before this version gets the grant.
UPDATE clients SET grant_types = array_append(grant_types, 'urn:ietf:params:oauth:grant-type:device_code')
WHERE client_id = 'authly-cli' AND NOT ('urn:ietf:params:oauth:grant-type:device_code' = ANY (grant_types));
