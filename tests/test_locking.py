"""One writer: a second holder of the warehouse lock waits its turn or is refused, by name."""

import subprocess
import sys
import textwrap
import time

import pytest

from orchestration.locking import WarehouseBusy, warehouse_write_lock

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from orchestration.locking import warehouse_write_lock
    with warehouse_write_lock(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _holder(home, seconds):
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(home), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path):
    holder = _holder(tmp_path, 30)
    try:
        with (pytest.raises(WarehouseBusy, match=rf"another refresh \(pid {holder.pid}, since .*\) is writing"),
              warehouse_write_lock(tmp_path, wait_s=0)):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_a_second_writer_that_may_wait_gets_the_lock_when_the_first_ends(tmp_path):
    holder = _holder(tmp_path, 1.5)
    t0 = time.monotonic()
    with warehouse_write_lock(tmp_path, wait_s=60, poll_s=0.1):
        waited = time.monotonic() - t0
    holder.wait()
    assert holder.returncode == 0
    assert waited >= 1.0  # it did wait for the holder (not a timing budget: a lower bound)


def test_a_killed_holder_releases_the_lock(tmp_path):
    holder = _holder(tmp_path, 60)
    holder.kill()
    holder.wait()
    with warehouse_write_lock(tmp_path, wait_s=0):
        pass


def test_the_lock_is_reentrant_within_one_process(tmp_path):
    with warehouse_write_lock(tmp_path):
        with warehouse_write_lock(tmp_path):
            pass
        # still held by us after the inner release: another process is refused
        probe = subprocess.run([sys.executable, "-c", HOLD, str(tmp_path), "0"], check=False, capture_output=True, text=True)
        assert probe.returncode != 0 and "WarehouseBusy" in probe.stderr
