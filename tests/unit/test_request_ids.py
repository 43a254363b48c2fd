"""Request ids: unique per request and never repeated by a worker forked from the process that made the last one."""

from __future__ import annotations

import os

from api.observability import _ids


def test_ids_count_up_under_one_prefix() -> None:
    first, second = _ids.next(), _ids.next()
    assert first != second and first[:20] == second[:20]
    assert int(second[20:], 16) == int(first[20:], 16) + 1


def test_a_forked_worker_starts_its_own_series() -> None:
    parent = _ids.next()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: granian's workers are forked like this, after the app module was imported
        try:
            os.write(write, _ids.next().encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == len(parent) and child[:20] != parent[:20]
