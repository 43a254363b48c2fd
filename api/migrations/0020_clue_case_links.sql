-- A clue that became a case is linked to it in subject_links like any subject that became another (kind
-- 'opened_as_case'), so a case can be traced back through its clue to the complaint or deputy's suggestion it came
-- from: a representative who raised that follows the case. Cases opened before the link was written get theirs.
insert into subject_links (office_id, from_module, from_id, to_module, to_id, kind, created_by)
select office_id, 'litigation', id, 'litigation', case_id, 'opened_as_case', 'system'
from pil_clues where case_id is not null
on conflict do nothing;
