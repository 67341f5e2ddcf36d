-- One row per source record and the customer it belongs to. Records whose id is itself
-- personal data (an e-mail recipient, a caller's phone) disappear once their person is erased.
select
    c.source,
    c.source_record_id,
    c.customer_id,
    c.match_rule,
    cast(c.match_confidence as double) as match_confidence
from {{ source('identity', 'record_clusters') }} c
left join {{ ref('int_customer__privacy') }} p using (customer_id)
where not (coalesce(p.is_erased, false) and c.source in ('esp', 'callcenter'))
