-- The delivery worker works as its own role, a member of jianwu_app with the same rights: PostgreSQL's views
-- (pg_stat_statements, pg_stat_activity, the server log's %u) then tell its polling apart from the API's requests.
do $$
begin
    create role jianwu_worker nologin in role jianwu_app;
exception when duplicate_object then null;
end $$;
do $$
begin
    execute format('grant jianwu_worker to %I', current_user);
exception when others then null;  -- superusers and existing members need no grant
end $$;
