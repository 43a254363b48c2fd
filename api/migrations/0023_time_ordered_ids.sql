-- The rows that grow with use (complaints, cases, clues, suggestions, their clocks, inbox entries, deliveries,
-- files, proposals, refresh tokens) get ids that start with their creation time in milliseconds (the UUID version 7
-- layout: 48-bit Unix milliseconds, version, 74 random bits). With random ids every insert landed on a random leaf
-- page of the primary key, and of each index that leads with the id of the row's subject (a clock's subject, a
-- timeline entry's subject), so the first touch of each such page after a checkpoint wrote the whole 8 kB page to
-- the WAL: during a short run of filings, nine tenths of the WAL's page images came from B-tree inserts. Time-ordered
-- ids append to the right end of those indexes instead. PostgreSQL 18 has uuidv7(); this function also runs on the
-- older servers we support. Identities (accounts, offices, partner clients, representatives, devices, categories)
-- keep random ids: theirs would tell when an account was made, and they are few.
create function uuid7() returns uuid
language sql volatile parallel safe as $$
    select encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                  placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
                  from 1 for 6), 52, 1), 53, 1), 'hex')::uuid
$$;

alter table complaints alter column id set default uuid7();
alter table clocks alter column id set default uuid7();
alter table pil_clues alter column id set default uuid7();
alter table pil_cases alter column id set default uuid7();
alter table liaison_suggestions alter column id set default uuid7();
alter table inbox alter column id set default uuid7();
alter table deliveries alter column id set default uuid7();
alter table attachments alter column id set default uuid7();
alter table step_proposals alter column id set default uuid7();
alter table refresh_tokens alter column id set default uuid7();
