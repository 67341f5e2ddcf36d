-- GDPR requests resolved to customers: a request names an e-mail, a phone or a CRM id; every
-- customer holding a record with that identifier is concerned.
with requests as (
    select request_type, 'email' as key_type, email_key as key_value from {{ ref('stg_privacy__requests') }}
    union all select request_type, 'phone', phone_e164 from {{ ref('stg_privacy__requests') }}
    union all select request_type, 'crm_id', crm_id from {{ ref('stg_privacy__requests') }}
),

concerned as (
    select distinct c.customer_id, r.request_type
    from requests r
    join {{ ref('int_identity__record_keys') }} k
        on k.key_type = r.key_type and k.key_value = r.key_value
    join {{ source('identity', 'record_clusters') }} c
        on c.source = k.source and c.source_record_id = k.source_record_id
    where r.key_value is not null and c.customer_id is not null
)

select
    customer_id,
    bool_or(request_type = 'erasure') as is_erased,
    bool_or(request_type = 'objection') as is_objected
from concerned
group by customer_id
