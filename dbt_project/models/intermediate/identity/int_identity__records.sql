-- Every source record that can identify a person, with the attributes the golden record and
-- the identity guards use. One row per (source, source_record_id), ids exactly as sent.
-- `has_name` records (CRM members, accounts, form signups) carry a name signature that the
-- guards compare; contact-only records (a recipient, a caller phone, a card, a cookie) do not.

with crm as (
    select 'crm' as source, crm_id as source_record_id, 1 as source_priority,
        first_name, last_name, first_name_key, last_name_key, birth_date,
        email, phone_e164, address_line, postcode, city, country,
        coalesce(created_at, updated_at) as seen_at, updated_at as record_updated_at
    from {{ ref('stg_crm__customers') }}
),

accounts as (
    select 'ecommerce', account_id, 2,
        first_name, last_name, first_name_key, last_name_key, birth_date,
        email, phone_e164, address_line, postcode, city, country,
        coalesce(created_at, updated_at), updated_at
    from {{ ref('stg_ecommerce__accounts') }}
),

signups as (
    select 'forms', signup_id, 3,
        first_name, last_name, first_name_key, last_name_key, cast(null as date),
        email, cast(null as varchar), cast(null as varchar), postcode, cast(null as varchar), cast(null as varchar),
        submitted_at, submitted_at
    from {{ ref('stg_forms__signups') }}
),

guest_orders as (
    select 'ecommerce', order_id, 4,
        cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as date),
        guest_email, cast(null as varchar), shipping_address_line, shipping_postcode, shipping_city, shipping_country,
        ordered_at, ordered_at
    from {{ ref('stg_ecommerce__orders') }}
    where account_id is null and guest_email is not null
),

partner_appends as (
    select 'partners', crm_id, 5,
        cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as date),
        appended_email, cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar),
        appended_at, appended_at
    from {{ ref('stg_partners__email_appends') }}
),

cards as (
    select 'pos', loyalty_card_id, 6,
        cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as date),
        cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar),
        min(purchased_at), max(purchased_at)
    from {{ ref('stg_pos__receipt_lines') }}
    where loyalty_card_id is not null
    group by loyalty_card_id
),

callers as (
    select 'callcenter', caller_phone_raw, 7,
        cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as date),
        cast(null as varchar), max(caller_phone_e164), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar),
        min(called_at), max(called_at)
    from {{ ref('stg_callcenter__calls') }}
    where caller_phone_raw is not null
    group by caller_phone_raw
),

recipients as (
    select 'esp', recipient_raw, 8,
        cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as date),
        max(recipient_email_key), max(recipient_phone_e164), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar),
        min(occurred_at), max(occurred_at)
    from {{ ref('stg_esp__events') }}
    where recipient_raw is not null
    group by recipient_raw
),

cookies as (
    select 'web', anonymous_id, 9,
        cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as date),
        cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar), cast(null as varchar),
        min(occurred_at), max(occurred_at)
    from {{ ref('stg_web__events') }}
    where anonymous_id is not null
    group by anonymous_id
),

unioned as (
    select * from crm
    union all select * from accounts
    union all select * from signups
    union all select * from guest_orders
    union all select * from partner_appends
    union all select * from cards
    union all select * from callers
    union all select * from recipients
    union all select * from cookies
)

select
    source,
    source_record_id,
    source_priority,
    first_name,
    last_name,
    first_name_key,
    last_name_key,
    -- order-insensitive, so a record with first and last name swapped gets the same signature
    case when first_name_key is not null and last_name_key is not null
         then least(left(first_name_key, 3), left(last_name_key, 3)) || '|'
              || greatest(left(first_name_key, 3), left(last_name_key, 3))
    end as name_signature,
    birth_date,
    email,
    phone_e164,
    address_line,
    postcode,
    city,
    country,
    seen_at,
    record_updated_at
from unioned
