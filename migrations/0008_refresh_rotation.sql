-- Refresh rotation, fewer writes (issue 19). A user's access token is no longer recorded at
-- issuance (it names its grant, whose row carries its liveness); only a revoked one is, as for
-- client tokens. The used refresh token is marked rotated in place: with free space left in each
-- page that update is HOT (no new entry in the table's three indexes), and the pruning of pages
-- reclaims the old versions. Affects pages written from now on.
ALTER TABLE refresh_tokens SET (fillfactor = 60);

-- The COMMIT check of a pipelined transaction (db/sql.ts pipelinedTransaction): the database
-- refuses to commit once its own clock is past the bound the node sent with COMMIT.
CREATE FUNCTION authly_commit_deadline(until timestamptz) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF clock_timestamp() > until THEN
    RAISE EXCEPTION 'the request deadline passed before COMMIT arrived' USING ERRCODE = '57014';
  END IF;
  RETURN true;
END
$$;
