-- Number reserved for a branch developed in parallel; its own file replaces this one when the branches meet.
select 1;
