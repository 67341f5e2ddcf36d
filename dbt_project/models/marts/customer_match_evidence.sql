-- The pairs and match weights behind each probabilistic merge ("why are these two one customer?").
select
    e.customer_id,
    e.source_l,
    e.source_record_id_l,
    e.source_r,
    e.source_record_id_r,
    cast(e.match_probability as double) as match_probability,
    cast(e.match_weight as double) as match_weight,
    e.evidence,
    cast(e.scored_on as date) as scored_on
from {{ source('identity', 'match_evidence') }} e
left join {{ ref('int_customer__privacy') }} p using (customer_id)
where not coalesce(p.is_erased, false)
