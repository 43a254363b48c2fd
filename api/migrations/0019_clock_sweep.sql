-- The sweep of stale clocks (modules/clocks/store.py sweep_stale) reads each kind of stale clock through an index
-- of its own instead of walking every open clock of the office in id order: on an office with a million clocks
-- that walk outlasted the statement timeout, so the periodic sweep failed and monitoring reads waited on it.
-- Running clocks by due date: the ones past due are a range at the front; once marked overdue they leave the index.
create index clocks_running_due_idx on clocks (office_id, due, id) where finished_at is null and status = 'running';
-- Paused clocks, whose due date moves every day: few, read all.
create index clocks_paused_idx on clocks (office_id, id) where finished_at is null and status = 'paused';
-- The sweep's old index (open clocks by due date, any office): no query reads it any more.
drop index clocks_sweep_idx;
