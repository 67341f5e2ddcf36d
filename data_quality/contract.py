"""The contract clauses that blocking checks enforce, quoted word for word from docs/contract.md.

A rule naming one of these blocks the night when it fails; a rule naming none only warns
(tests/test_contract_valid_input.py checks that every quote stands in the contract).
"""

# §1 landing zone
REQUIRED = "Required fields: the entity's own id (its first column), its main timestamp"
PURCHASE_LINE = "for purchase lines `sku`, `quantity`, `unit_price`"
BAD_ROWS = "Bad rows (unparseable, a required field missing, a type that does not fit, an unknown enum"
CURRENCY = "a row in another currency is quarantined as unsupported"
LINE_NET = "line net = quantity × unit_price − discount"
ERASURE = "An `erasure` request removes that person's personal data"
OBJECTION = "An `objection` keeps the person but removes them from every marketing audience"
UPSERT = "upsert on `crm_id`, the latest `updated_at` wins"
# §2 published datamart
DIM_CUSTOMER = "dim_customer | one row per resolved person"
IDENTITY_MAP = "customer_identity_map | one row per source record"
IDENTITY_SOURCES = "source (`crm`, `ecommerce`, `pos`, `callcenter`, `esp`, `web`, `forms`, `partners`)"
ORDER_LINES = "fct_order_lines | one row per order or receipt line, all channels"
ORDER_CHANNELS = "channel (`web`, `store`)"
RFM = "fct_customer_rfm | one row per customer and snapshot date"
RFM_SCORES = "r/f/m scores are quintiles 1–5 (5 best)"
RFM_FREQUENCY = "`frequency` is the number of distinct purchases"
RFM_RECENCY = "`recency_days` is the days from the\nlast purchase to the snapshot date"
SCORES = "customer_scores | one row per customer and snapshot date"
PROPENSITY = "purchase_propensity (probability of a purchase within 90 days)"
PUBLISHED_ONLY_WHEN_CHECKED = "It is replaced only by a\nrefresh whose quality checks passed"

ALL = [v for k, v in dict(globals()).items() if k.isupper()]
