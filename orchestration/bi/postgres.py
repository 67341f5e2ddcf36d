"""Loading the published marts into PostgreSQL for BI tools that only speak Postgres.

Arrow batches go in through ADBC's bulk ingest (COPY under the hood) into `<table>__next`
tables; one transaction then renames them over the live tables and grants the read-only BI
role, so a dashboard sees last night or tonight, never a half-loaded table.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..warehouse import open_warehouse

SCHEMA = "marts"
READER_ROLE = "datamart_reader"


def _ident(name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise ValueError(f"unexpected identifier {name!r}")
    return f'"{name}"'


def publish_to_postgres(published: Path, url: str, reader_password: str | None = None) -> dict[str, int]:
    import adbc_driver_postgresql.dbapi as pg

    counts: dict[str, int] = {}
    with open_warehouse(published, read_only=True) as duck, pg.connect(url) as conn:
        tables = [r[0] for r in duck.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' ORDER BY 1").fetchall()]
        with conn.cursor() as cur:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            for table in tables:
                data = duck.execute(f"SELECT * FROM marts.{table}").to_arrow_table()
                cur.adbc_ingest(f"{table}__next", data, mode="replace", db_schema_name=SCHEMA)
                counts[table] = data.num_rows
        conn.commit()
        with conn.cursor() as cur:  # the swap: one transaction
            cur.execute(f"SELECT 1 FROM pg_roles WHERE rolname = '{READER_ROLE}'")
            if not cur.fetchall():
                cur.execute(f"CREATE ROLE {READER_ROLE} NOLOGIN")
            if reader_password:
                cur.execute(f"ALTER ROLE {READER_ROLE} LOGIN PASSWORD '{reader_password.replace(chr(39), '')}'")
            for table in tables:
                t = _ident(table)
                nxt = _ident(f"{table}__next")
                cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{_ident(table + '__old')}")
                cur.execute(f"ALTER TABLE IF EXISTS {SCHEMA}.{t} RENAME TO {_ident(table + '__old')}")
                cur.execute(f"ALTER TABLE {SCHEMA}.{nxt} RENAME TO {t}")
                cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{_ident(table + '__old')}")
            cur.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {READER_ROLE}")
            cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {READER_ROLE}")
            cur.execute(f"REVOKE CREATE ON SCHEMA {SCHEMA} FROM {READER_ROLE}")
        conn.commit()
    return counts
