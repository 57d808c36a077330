-- Code exchange, fewer writes (perf round two). A code is written once and marked consumed once
-- (tokens/store.ts redeemAuthorizationCode). With half of each page left free, that update finds
-- room on the row's own page and is HOT: no new entry in the table's two indexes (measured with
-- bench/rotation-cost.ts --exchange: 7 % of these updates were HOT before, 95 % after; WAL per
-- exchange 1950 -> 1530 bytes). Codes live minutes before the purge: the space costs nothing.
-- Affects pages written from now on.
ALTER TABLE authorization_codes SET (fillfactor = 50);
