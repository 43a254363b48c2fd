-- Holiday calendars as data at three levels, clocks kept current, and flow monitoring with its escalation ladder.

-- Days of the State Council's notice (national), or a province's or an office's own (scope: '*', the province
-- name, or the office id). An office sees the union; on a day listed at several levels the lower one wins.
create table calendar_days (
    level text not null check (level in ('national', 'province', 'office')),
    scope text not null check (length(scope) between 1 and 64),
    day date not null,
    working boolean not null,
    name text check (length(name) <= 50),
    primary key (level, scope, day)
);

-- What each level has entered for a year; `complete` once the notice itself has been entered.
create table calendar_years (
    level text not null check (level in ('national', 'province', 'office')),
    scope text not null,
    year integer not null check (year between 1950 and 2199),
    complete boolean not null,
    notice text check (length(notice) <= 200),
    entered_by uuid,
    entered_at timestamptz not null default now(),
    primary key (level, scope, year)
);

-- Offices' corrections entered before this migration become office-level days.
insert into calendar_days (level, scope, day, working)
select 'office', office_id::text, day, working from office_calendar_days;
drop table office_calendar_days;

-- A recomputation of the clocks a calendar change touches, done in bounded batches (resumable from `cursor`).
create table calendar_recomputes (
    id uuid primary key default gen_random_uuid(),
    office_ids uuid[] not null,
    first_day date not null,
    last_day date not null,
    cursor uuid,
    changed integer not null default 0,
    checked integer not null default 0,
    requested_by uuid,
    created_at timestamptz not null default now(),
    done_at timestamptz
);
create index calendar_recomputes_open_idx on calendar_recomputes (created_at) where done_at is null;

-- An office's own time zone for period boundaries (null: Asia/Shanghai).
alter table offices add column time_zone text check (length(time_zone) <= 64);

-- Flow monitoring reads every open clock of an office by due date, whatever the module or status.
create index clocks_monitor_idx on clocks (office_id, due, id) where finished_at is null;
-- The sweep finds clocks whose stored state may have moved since it was written.
create index clocks_sweep_idx on clocks (due) where finished_at is null;

-- How fast the ladder climbs for an office (days), and whether it climbs by itself.
create table monitoring_settings (
    office_id uuid primary key references offices (id),
    automatic boolean not null default true,
    reminder_after_days integer not null default 0 check (reminder_after_days between 0 and 365),
    notice_after_days integer not null default 3 check (notice_after_days between 0 and 365),
    bulletin_period text not null default 'month' check (bulletin_period in ('month', 'quarter')),
    updated_at timestamptz not null default now()
);

-- The rungs of the ladder raised on one clock: a reminder 口头提示, then a written notice 流程监控通知书
-- that the handler answers with a reason and a plan.
create table monitoring_actions (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    clock_id uuid not null references clocks (id),
    module text not null,
    subject_id uuid not null,
    rung text not null check (rung in ('reminder', 'notice')),
    automatic boolean not null,
    raised_by uuid,
    handler_id uuid,
    note text check (length(note) <= 2000),
    created_at timestamptz not null default now(),
    answer_reason text check (length(answer_reason) <= 2000),
    answer_plan text check (length(answer_plan) <= 2000),
    answered_by uuid,
    answered_at timestamptz,
    unique (clock_id, rung)
);
create index monitoring_actions_office_idx on monitoring_actions (office_id, created_at desc, id desc);

-- A bulletin 通报 lists the office's overdue items of a period.
create table monitoring_bulletins (
    id uuid primary key default gen_random_uuid(),
    office_id uuid not null references offices (id),
    period_start date not null,
    period_end date not null,
    items jsonb not null,
    automatic boolean not null,
    created_by uuid,
    created_at timestamptz not null default now(),
    unique (office_id, period_start, period_end)
);

-- National defaults. 本机关负责人 approves the 60-day opinion's extension (信访工作条例 Art. 34): the chief (and
-- deputies, who hold the chief role), no longer the department head.
delete from permission_grants
where province = '*' and office_id is null and role = 'dept_head' and action = 'complaint.clock.extend';
insert into permission_grants (province, office_id, role, action)
select '*', null, g.role, g.action from (values
    ('case_mgmt', 'monitoring.read'), ('case_mgmt', 'monitoring.escalate'), ('case_mgmt', 'monitoring.configure'),
    ('chief', 'monitoring.read'), ('chief', 'monitoring.escalate'), ('dept_head', 'monitoring.read'),
    ('prosecutor', 'monitoring.answer'), ('assistant', 'monitoring.answer'), ('dept_head', 'monitoring.answer'),
    ('complaints_office', 'monitoring.answer'), ('complaints_office', 'monitoring.read'),
    ('admin', 'admin.calendar.manage'), ('admin', 'admin.calendar.read'), ('case_mgmt', 'admin.calendar.read')
) as g(role, action)
on conflict do nothing;

grant select, insert, update, delete on calendar_days, calendar_years, calendar_recomputes, monitoring_settings,
    monitoring_actions, monitoring_bulletins to jianwu_app;

-- Whether items of a category need a formal handling opinion (信访工作条例 Art. 31(6)) and so run the 60-day
-- clock; null keeps the default (petitions).
alter table complaint_categories add column handling_opinion boolean;
