"""One writer at a time: an advisory lock beside the warehouse file.

DuckDB itself refuses a second writing process, but only when the second one opens the file,
in the middle of a step, with an opaque I/O error. The refresh takes this lock before it
touches anything, so a second refresh either waits its turn or refuses with a clear message
naming who holds it. The lock is held for the whole run (`flock`, released by the kernel even
when the holder is killed) and is re-entrant inside one process: the CLI takes it, then the
Dagster resource of the same run takes it again without blocking itself.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "warehouse.lock"
_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, depth) held by this process
_guard = threading.Lock()


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse."""


def _holder(path: Path) -> str:
    try:
        pid, _, since = path.read_text().strip().partition(" ")
        return f"pid {pid}, since {since}" if pid else "an unknown process"
    except OSError:
        return "an unknown process"


@contextmanager
def warehouse_write_lock(home: Path, wait_s: float = 0.0, poll_s: float = 0.5) -> Iterator[None]:
    """Hold the warehouse's write lock; wait up to `wait_s` seconds for it, then raise WarehouseBusy."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    key = str(path.resolve())
    with _guard:
        if key in _held:  # re-entrant within this process
            fd, depth = _held[key]
            _held[key] = (fd, depth + 1)
            acquired_here = False
        else:
            acquired_here = True
    if acquired_here:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    waited = f" after waiting {wait_s:.0f}s" if wait_s else ""
                    raise WarehouseBusy(
                        f"another refresh ({_holder(path)}) is writing {home / 'warehouse.duckdb'}; "
                        f"not starting{waited}. Wait for it to finish, or queue behind it with a wait time."
                    ) from None
                time.sleep(poll_s)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {dt.datetime.now().isoformat(timespec='seconds')}\n".encode(), 0)
        with _guard:
            _held[key] = (fd, 1)
    try:
        yield
    finally:
        with _guard:
            fd, depth = _held[key]
            if depth > 1:
                _held[key] = (fd, depth - 1)
            else:
                del _held[key]
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
