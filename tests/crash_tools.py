"""Helpers for the crash and concurrency tests: run `datamart refresh` as a real process, kill it
with SIGKILL at a chosen step, and compare datamart content by table checksums."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from orchestration.warehouse import open_warehouse

DATAMART = str(Path(sys.executable).with_name("datamart"))
# columns that legitimately differ between two runs of the same night
VOLATILE_COLUMNS = {"trained_at", "loaded_at", "_loaded_at", "_load_id", "load_id", "checked_at", "published_at",
                    "run_id", "file_mtime", "quarantined_at"}


def refresh_env(home: Path, landing: Path, as_of) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAMART_", "DAGSTER_HOME"))}
    env.update(DATAMART_HOME=str(home), DATAMART_LANDING_DIR=str(landing), DATAMART_AS_OF=str(as_of),
               PYTHONUNBUFFERED="1")
    return env


def start_refresh(env: dict[str, str], *args: str) -> subprocess.Popen:
    # its own process group: the kill reaches the dbt subprocess too, as a machine crash would
    return subprocess.Popen([DATAMART, "refresh", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


@dataclass
class Kill:
    step: str  # prefix of the Dagster step key whose start triggers the kill
    delay_s: float  # how long after the step started


def refresh_killed_at(env: dict[str, str], kill: Kill, timeout_s: float = 600) -> list[str]:
    """Start a refresh, SIGKILL its whole process group `delay_s` after `step` starts.
    Returns the output lines; fails when the refresh ended before reaching the step."""
    proc = start_refresh(env)
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip())
        if line.strip().startswith(f"▶ {kill.step}"):
            time.sleep(kill.delay_s)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return lines
        if time.monotonic() > deadline:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    raise AssertionError(f"the refresh never reached step {kill.step}: " + " | ".join(lines[-5:]))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def table_checksums(path: Path, schemas: tuple[str, ...], only: tuple[str, ...] = ()) -> dict[str, tuple[int, int]]:
    """{schema.table: (rows, order-independent checksum of every non-volatile column)}, for the
    tables of `schemas` plus the tables named in `only`."""
    out: dict[str, tuple[int, int]] = {}
    with open_warehouse(path, read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            f"WHERE table_schema IN ({', '.join('?' * len(schemas))}) "
            f"OR table_schema || '.' || table_name IN ({', '.join('?' * len(only)) or 'NULL'}) ORDER BY 1, 2",
            [*schemas, *only]).fetchall()
        for schema, name in tables:
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
                "ORDER BY ordinal_position", [schema, name]).fetchall() if c not in VOLATILE_COLUMNS]
            row = ", ".join(f'"{c}"' for c in cols)
            rows, digest = con.execute(
                f'SELECT count(*), coalesce(sum(hash({row})::HUGEINT), 0) FROM {schema}."{name}"').fetchall()[0]
            out[f"{schema}.{name}"] = (rows, int(digest))
    return out


def latest_load_accounting(path: Path) -> dict[str, tuple[int, int, int]]:
    with open_warehouse(path, read_only=True) as con:
        rows = con.execute("""
            SELECT file_path, rows_read, rows_loaded, rows_quarantined FROM audit.load_log
            QUALIFY row_number() OVER (PARTITION BY file_path ORDER BY loaded_at DESC) = 1""").fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}
