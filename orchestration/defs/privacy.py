"""GDPR erasure carried out in the working warehouse, every night (group `privacy`)."""


import dagster as dg

from .. import privacy
from ..resources import DatamartResource
from .ingestion import OWNER, WAREHOUSE_POOL

_DEPS = [dg.AssetKey(["identity", "record_clusters"]), dg.AssetKey(["staging", "stg_privacy__requests"])]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["privacy", "erased_customers"], group_name="identity", kinds={"duckdb", "python"}, owners=[OWNER],
            deps=_DEPS,
            description=(
                "Carries out erasure requests in the working warehouse before the marts are built: every "
                "source record of the person (tonight's identity clusters, closed over the person's hard "
                "identifiers whether or not identity linked them) loses its personal "
                "columns in raw, staging and identity tables; quarantined lines holding their identifiers are "
                "blanked; salted hashes in privacy.erasure_register recognise the person's records on later "
                "nights. Writes privacy.erased_customers for the marts. Metadata holds counts only.")),
        dg.AssetSpec(
            ["privacy", "objecting_customers"], group_name="identity", kinds={"duckdb", "python"},
            owners=[OWNER], deps=_DEPS,
            description=(
                "The customers an objection reaches (the records carrying the e-mail, phone or CRM id it "
                "names, closed over the person's hard identifiers): the marts set their consents to false "
                "and keep them out of every audience.")),
    ],
    pool=WAREHOUSE_POOL,
)
def erased_customers(context: dg.AssetExecutionContext, datamart: DatamartResource):
    s = datamart.settings()
    secret = privacy.salt(s.home)
    with datamart.connect() as con:
        con.execute("BEGIN")
        new_requests = privacy.register_requests(con, secret)
        records = privacy.erased_records(con, secret)
        touched = privacy.scrub(con, secret)
        objecting = privacy.objecting_customers(con)
        customers = con.execute(f"SELECT count(*) FROM {privacy.ERASED_CUSTOMERS}").fetchall()[0][0]
        con.execute("COMMIT")
    yield dg.MaterializeResult(asset_key=["privacy", "objecting_customers"],
                               metadata={"dagster/row_count": objecting})
    yield dg.MaterializeResult(asset_key=["privacy", "erased_customers"], metadata={
        "new_erasure_identifiers": new_requests,
        "erased_customers": customers,
        "erased_source_records": records,
        "rows_scrubbed": sum(touched.values()),
        **{f"scrubbed.{table}": n for table, n in touched.items() if n},
    })
