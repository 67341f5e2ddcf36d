"""Running a Spark job of the project (a console script of its own) from a Dagster step.

The orchestrator's process never starts a JVM: each Spark step runs as a child process, and only
its files and its exit code come back. Its stderr is Spark's log, which can quote rows: of it,
only the job's last line (the Python exception) goes into the error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def executable(script: str) -> str:
    """The console script beside this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).with_name(script)
    return str(beside) if beside.exists() else script


def run_job(script: str, args: list[str], home: Path, what: str) -> float:
    """Run `script args` with DATAMART_HOME=home; returns its wall time in seconds."""
    t0 = time.perf_counter()
    done = subprocess.run([executable(script), *args], check=False, capture_output=True, text=True,
                          env={**os.environ, "DATAMART_HOME": str(home)})
    if done.returncode != 0:
        last = [line for line in done.stderr.splitlines() if line.strip()][-1:] or ["no output"]
        raise RuntimeError(f"{what} on Spark failed (exit {done.returncode}): {last[0][:300]}")
    return time.perf_counter() - t0
