"""A real PostgreSQL server (Debian's, started here as a non-root user) receives the marts."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from orchestration.bi.parquet import export_marts
from orchestration.bi.postgres import READER_ROLE, publish_to_postgres
from orchestration.warehouse import open_warehouse

BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), None)
pytestmark = pytest.mark.skipif(BIN is None, reason="Debian's postgresql is not installed "
                                                    "(make test installs it when run as root)")
SUPER_PASSWORD, READER_PASSWORD = "super-secret-test", "reader-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: drop to the `postgres` system user when we are root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@pytest.fixture(scope="module")
def postgres():
    # not under pytest's tmp dir: that one is private to root, and the server runs as `postgres`
    root = Path(tempfile.mkdtemp(prefix="datamart-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    pwfile = root / "pw"
    pwfile.write_text(SUPER_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        shutil.chown(pwfile, "postgres")
    subprocess.run(as_postgres_user([f"{BIN}/initdb", "-D", str(data), "-U", "datamart_admin", "--pwfile", str(pwfile),
                                     "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"]),
                   check=True, capture_output=True)
    port = free_port()
    subprocess.run(as_postgres_user([f"{BIN}/pg_ctl", "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                                     f"-p {port} -k {sock} -c listen_addresses=127.0.0.1", "start"]),
                   check=True, capture_output=True)
    try:
        yield f"postgresql://datamart_admin:{SUPER_PASSWORD}@127.0.0.1:{port}/postgres", port
    finally:
        subprocess.run(as_postgres_user([f"{BIN}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"]),
                       check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def counts_in_duckdb(published: Path) -> dict[str, int]:
    with open_warehouse(published, read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='marts'").fetchall()]
        return {t: con.execute(f"SELECT count(*) FROM marts.{t}").fetchall()[0][0] for t in tables}


def test_marts_land_in_postgres_with_a_read_only_login(refreshed, postgres):
    import adbc_driver_postgresql.dbapi as pg

    url, port = postgres
    expected = counts_in_duckdb(refreshed.published_path)
    assert publish_to_postgres(refreshed.published_path, url, READER_PASSWORD) == expected
    # a second night swaps the tables in place
    assert publish_to_postgres(refreshed.published_path, url, READER_PASSWORD) == expected
    reader = f"postgresql://{READER_ROLE}:{READER_PASSWORD}@127.0.0.1:{port}/postgres"
    with pg.connect(reader) as conn, conn.cursor() as cur:
        for table, n in expected.items():
            cur.execute(f"SELECT count(*) FROM marts.{table}")
            assert cur.fetchall()[0][0] == n
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema='marts'")
        assert {r[0] for r in cur.fetchall()} == set(expected)  # no __next / __old leftovers
        with pytest.raises(Exception, match="permission denied"):
            cur.execute("DELETE FROM marts.dim_customer")
    with pg.connect(reader) as conn, conn.cursor() as cur, pytest.raises(Exception, match="permission denied"):
        cur.execute("CREATE TABLE marts.scratch (x int)")


def test_parquet_export_has_every_mart(refreshed, tmp_path):
    counts = export_marts(refreshed.published_path, tmp_path / "parquet")
    assert counts == counts_in_duckdb(refreshed.published_path)
    assert {p.stem for p in (tmp_path / "parquet").glob("*.parquet")} == set(counts)
