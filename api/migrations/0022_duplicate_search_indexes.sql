-- The duplicate searches at intake (complaints: modules/complaints/service._duplicates_sql; PIL clues:
-- modules/litigation/service._duplicates_sql) take each branch's ten newest matches. Three branches had an index
-- that ended before their category (or domain) or before the date: the same citizen, the same phone, the same
-- address. PostgreSQL then read every earlier item of that person or address, filtered and sorted them, so a
-- frequent filer made each of their filings slower (165 items in one category: 146 buffers and about 0.2 ms a
-- filing). Ending each index with the date lets the branch stop after ten entries, whatever the history.
create index complaints_complainant_dupe_idx on complaints (complainant_id, category_id, created_at desc)
    where complainant_id is not null;
drop index complaints_reporter_idx;
create index complaints_reporter_idx on complaints (reporter_phone_index, category_id, created_at desc)
    where reporter_phone_index is not null;
drop index pil_clues_place_idx;
create index pil_clues_place_idx on pil_clues (office_id, domain, address, created_at desc);
