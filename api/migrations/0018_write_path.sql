-- The write path under concurrency.

-- An audit append takes the first free lane of its office instead of waiting on one drawn at random: the lock is
-- held until commit (its fsync included), so with a random draw two filings met on a lane while others stood
-- free, and creations queued there (measured: 4.5 ms of lock wait per filing at concurrency 32). Every lane is
-- tried without waiting, from a random start; only when all are taken does the append wait, on the first one
-- tried. The lock key is the one audit_lane_head takes for the same lane, so both may run side by side. As there,
-- the head is read by a statement that starts after the lock is granted, so it sees every row committed before.
create function audit_lane_claim(prefix text, lanes integer, out lane integer, out seq bigint, out hash text)
language plpgsql volatile as $$
declare
    start integer := floor(random() * lanes)::integer;
    lane_chain text;
begin
    for i in 0 .. lanes - 1 loop
        lane := (start + i) % lanes;
        lane_chain := prefix || ':' || lane;
        if pg_try_advisory_xact_lock(hashtextextended('audit:' || lane_chain, 7)) then
            select a.seq, a.hash into seq, hash from audit_log a where a.chain = lane_chain order by a.seq desc limit 1;
            return;
        end if;
    end loop;
    lane := start;
    lane_chain := prefix || ':' || lane;
    perform pg_advisory_xact_lock(hashtextextended('audit:' || lane_chain, 7));
    select a.seq, a.hash into seq, hash from audit_log a where a.chain = lane_chain order by a.seq desc limit 1;
end $$;
grant execute on function audit_lane_claim(text, integer) to jianwu_app;

-- The delivery worker claims the oldest pending events: an index in id order lets it stop after one batch, where
-- the index by availability made it read and sort every pending row on each claim (6,000 buffers a claim with a
-- backlog of a few thousand). Events waiting for a retry are passed over by the filter on available_at.
create index outbox_pending_id_idx on outbox (id) where delivered_at is null;
drop index outbox_pending_idx;
