"""GDPR erasure carried out in the working warehouse, every night (group `privacy`)."""


import dagster as dg

from .. import privacy
from ..resources import DatamartResource
from .ingestion import OWNER, WAREHOUSE_POOL


@dg.asset(
    key=["privacy", "erased_customers"],
    group_name="identity",
    kinds={"duckdb", "python"},
    owners=[OWNER],
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["identity", "record_clusters"]), dg.AssetKey(["staging", "stg_privacy__requests"])],
    description=(
        "Carries out erasure requests in the working warehouse before the marts are built: every "
        "source record of the person (found through tonight's identity clusters) loses its personal "
        "columns in raw, staging and identity tables; quarantined lines holding their identifiers are "
        "blanked; salted hashes in privacy.erasure_register recognise the person's records on later "
        "nights. Writes privacy.erased_customers for the marts. Metadata holds counts only."
    ),
)
def erased_customers(context: dg.AssetExecutionContext, datamart: DatamartResource) -> dg.MaterializeResult:
    s = datamart.settings()
    secret = privacy.salt(s.home)
    with datamart.connect() as con:
        con.execute("BEGIN")
        new_requests = privacy.register_requests(con, secret)
        records = privacy.erased_records(con, secret)
        touched = privacy.scrub(con, secret)
        customers = con.execute(f"SELECT count(*) FROM {privacy.ERASED_CUSTOMERS}").fetchall()[0][0]
        con.execute("COMMIT")
    return dg.MaterializeResult(metadata={
        "new_erasure_identifiers": new_requests,
        "erased_customers": customers,
        "erased_source_records": records,
        "rows_scrubbed": sum(touched.values()),
        **{f"scrubbed.{table}": n for table, n in touched.items() if n},
    })
