-- National default permission list for complaints. Provinces and offices replace it through the admin API.
insert into permission_grants (province, office_id, role, action)
select '*', null, g.role, g.action from (values
    ('citizen', 'complaint.create'), ('citizen', 'complaint.own'),
    ('prosecutor', 'complaint.read'), ('prosecutor', 'complaint.note'), ('prosecutor', 'complaint.reply'),
    ('prosecutor', 'complaint.close'), ('prosecutor', 'complaint.clock.manage'),
    ('assistant', 'complaint.read'), ('assistant', 'complaint.note'), ('assistant', 'complaint.reply'),
    ('complaints_office', 'complaint.read'), ('complaints_office', 'complaint.file_for_visitor'),
    ('complaints_office', 'complaint.triage'), ('complaints_office', 'complaint.assign'),
    ('complaints_office', 'complaint.transfer'), ('complaints_office', 'complaint.note'),
    ('complaints_office', 'complaint.reply'), ('complaints_office', 'complaint.close'),
    ('complaints_office', 'complaint.clock.manage'), ('complaints_office', 'complaint.monitor'),
    ('dept_head', 'complaint.read'), ('dept_head', 'complaint.triage'), ('dept_head', 'complaint.assign'),
    ('dept_head', 'complaint.transfer'), ('dept_head', 'complaint.note'), ('dept_head', 'complaint.reply'),
    ('dept_head', 'complaint.close'), ('dept_head', 'complaint.reopen'), ('dept_head', 'complaint.clock.manage'),
    ('dept_head', 'complaint.clock.extend'), ('dept_head', 'complaint.monitor'), ('dept_head', 'complaint.identity.view'),
    ('chief', 'complaint.read'), ('chief', 'complaint.triage'), ('chief', 'complaint.assign'),
    ('chief', 'complaint.designate'), ('chief', 'complaint.transfer'), ('chief', 'complaint.note'),
    ('chief', 'complaint.reply'), ('chief', 'complaint.close'), ('chief', 'complaint.reopen'),
    ('chief', 'complaint.clock.manage'), ('chief', 'complaint.clock.extend'), ('chief', 'complaint.monitor'),
    ('chief', 'complaint.identity.view'),
    ('case_mgmt', 'complaint.read'), ('case_mgmt', 'complaint.monitor'),
    ('admin', 'complaint.catalog.manage')
) as g(role, action);
