-- The head of an audit lane, locked and read in one round trip. A volatile PL/pgSQL function takes a fresh
-- snapshot for each statement, so the read sees every row committed before the lock was granted.
create function audit_lane_head(lane text, lock_key bigint, out seq bigint, out hash text)
language plpgsql volatile as $$
begin
    perform pg_advisory_xact_lock(lock_key);
    select a.seq, a.hash into seq, hash from audit_log a where a.chain = lane order by a.seq desc limit 1;
end $$;
grant execute on function audit_lane_head(text, bigint) to jianwu_app;

-- Possible duplicates are looked up by person (indexed already) and by place: this serves the place.
create index complaints_place_idx on complaints (office_id, category_id, latitude, created_at desc)
    where latitude is not null;
