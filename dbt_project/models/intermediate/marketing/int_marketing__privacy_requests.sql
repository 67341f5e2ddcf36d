-- Each GDPR request and every customer it concerns (a request names an e-mail, a phone or a
-- CRM id; every customer holding a record with that identifier is concerned): the dated
-- version of int_customer__privacy, which the consent history needs.
with requests as (
    select request_id, 'email' as key_type, email_key as key_value from {{ ref('stg_privacy__requests') }}
    union all select request_id, 'phone', phone_e164 from {{ ref('stg_privacy__requests') }}
    union all select request_id, 'crm_id', crm_id from {{ ref('stg_privacy__requests') }}
)

select distinct r.request_id, c.customer_id
from requests r
join {{ ref('int_identity__record_keys') }} k on k.key_type = r.key_type and k.key_value = r.key_value
join {{ source('identity', 'record_clusters') }} c
    on c.source = k.source and c.source_record_id = k.source_record_id
where r.key_value is not null and c.customer_id is not null
