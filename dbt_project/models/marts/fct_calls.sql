-- Calls to the call centre under the one customer key (the caller's phone stays in staging).
-- The person is the CRM member named by the agent, else the person behind the caller's number.
with clusters as (
    select source, source_record_id, customer_id from {{ source('identity', 'record_clusters') }}
)

select
    c.call_id,
    coalesce(crm.customer_id, phone.customer_id) as customer_id,
    c.called_at,
    c.call_date,
    c.reason,
    c.outcome,
    c.order_id,
    cast(c.duration_s as integer) as duration_s,
    c.outcome = 'sale' as is_sale
from {{ ref('stg_callcenter__calls') }} c
left join clusters crm on crm.source = 'crm' and crm.source_record_id = c.crm_id
left join clusters phone on phone.source = 'callcenter' and phone.source_record_id = c.caller_phone_raw
