-- Client cache invalidation (issue 19, clients/cache.ts): every change to a client row is announced
-- on the channel authly_clients with the client_id as payload, delivered at COMMIT to every node
-- listening (a rolled-back change announces nothing). An INSERT needs no announcement (a cache
-- never holds an unknown client_id). A client_id too long for a payload and a TRUNCATE announce
-- '*' (forget every client).
CREATE FUNCTION authly_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('authly_clients', '*');
    RETURN NULL;
  END IF;
  PERFORM pg_notify('authly_clients', CASE WHEN octet_length(OLD.client_id) <= 4000 THEN OLD.client_id ELSE '*' END);
  IF TG_OP = 'UPDATE' AND NEW.client_id IS DISTINCT FROM OLD.client_id THEN
    PERFORM pg_notify('authly_clients', CASE WHEN octet_length(NEW.client_id) <= 4000 THEN NEW.client_id ELSE '*' END);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER clients_changed AFTER UPDATE OR DELETE ON clients
  FOR EACH ROW EXECUTE FUNCTION authly_client_changed();
CREATE TRIGGER clients_truncated AFTER TRUNCATE ON clients
  FOR EACH STATEMENT EXECUTE FUNCTION authly_client_changed();
