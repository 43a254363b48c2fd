"""Fault drills: scripted outages against a Jianwu of their own, bounded in time and count, loopback only.

`make drills` (= `drills/run` = `python -m drills`) runs them all; `python -m drills <name>` runs one.
"""

DRILLS = ("redis_outage", "postgres_restart", "crash_idempotency", "push_worker_kill", "two_instances")
