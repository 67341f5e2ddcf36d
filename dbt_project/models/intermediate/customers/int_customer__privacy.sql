-- GDPR requests resolved to customers. Erasure: the privacy step matched the request (or an
-- earlier night's erased records) to tonight's clusters and already blanked their personal data
-- in the working warehouse. Objection: a request names an e-mail, a phone or a CRM id; every
-- customer holding a record with that identifier objects.
with objections as (
    select 'email' as key_type, email_key as key_value from {{ ref('stg_privacy__requests') }}
    where request_type = 'objection'
    union all select 'phone', phone_e164 from {{ ref('stg_privacy__requests') }} where request_type = 'objection'
    union all select 'crm_id', crm_id from {{ ref('stg_privacy__requests') }} where request_type = 'objection'
),

objecting as (
    select distinct c.customer_id
    from objections r
    join {{ ref('int_identity__record_keys') }} k
        on k.key_type = r.key_type and k.key_value = r.key_value
    join {{ source('identity', 'record_clusters') }} c
        on c.source = k.source and c.source_record_id = k.source_record_id
    where r.key_value is not null and c.customer_id is not null
),

erased as (
    select distinct customer_id from {{ source('privacy', 'erased_customers') }}
),

concerned as (
    select customer_id from objecting
    union
    select customer_id from erased
)

select
    c.customer_id,
    c.customer_id in (select customer_id from erased) as is_erased,
    c.customer_id in (select customer_id from objecting) as is_objected
from concerned c
