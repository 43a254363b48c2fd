-- The case kernel: one timeline for every module's subjects, and proposals waiting for approval.

-- The complaints timeline becomes the timeline of every module: rows keep their ids and order.
alter table complaint_events rename to timeline_events;
alter table timeline_events rename column complaint_id to subject_id;
alter table timeline_events drop constraint complaint_events_complaint_id_fkey;
alter table timeline_events add column module text not null default 'complaints';
alter table timeline_events alter column module drop default;
alter index complaint_events_complaint_idx rename to timeline_events_subject_idx;
alter sequence complaint_events_id_seq rename to timeline_events_id_seq;

-- A step that needs a decision by someone else (prosecutor proposes, department head reviews, chief decides):
-- the proposal waits here, one pending per subject, until its chain of approvals is complete, it is returned
-- with a reason, or the proposer withdraws it.
create table step_proposals (
    id uuid primary key default gen_random_uuid(),
    module text not null,
    subject_id uuid not null,
    office_id uuid not null references offices (id),
    step text not null,
    fields jsonb not null default '{}'::jsonb,
    body text,
    proposed_by text not null,
    stage integer not null default 0,
    status text not null default 'pending' check (status in ('pending', 'approved', 'returned', 'withdrawn')),
    decisions jsonb not null default '[]'::jsonb,
    created_at timestamptz not null default now(),
    decided_at timestamptz
);
create unique index step_proposals_pending_uq on step_proposals (subject_id) where status = 'pending';
create index step_proposals_subject_idx on step_proposals (subject_id, created_at);
create index step_proposals_office_pending_idx on step_proposals (office_id, created_at) where status = 'pending';

grant select, insert, update on step_proposals to jianwu_app;

-- Attachments likewise: one table for every module's files (evidence, material, replies' documents).
alter table complaint_attachments rename to attachments;
alter table attachments rename column complaint_id to subject_id;
alter table attachments drop constraint complaint_attachments_complaint_id_fkey;
alter table attachments add column module text not null default 'complaints';
alter table attachments alter column module drop default;
alter index complaint_attachments_complaint_idx rename to attachments_subject_idx;
alter index complaint_attachments_pkey rename to attachments_pkey;

-- Which modules exist is the registry's to say (the admin route refuses a name no manifest declares).
alter table office_modules drop constraint office_modules_module_check;
alter table office_modules add constraint office_modules_module_check check (module ~ '^[a-z][a-z_]{1,39}$');
