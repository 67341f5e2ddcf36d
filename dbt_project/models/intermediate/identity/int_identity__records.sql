{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['source', 'source_record_id'],
    on_schema_change='append_new_columns',
    post_hook=["{{ identity_log_rows('records') }}", "{{ drop_placeholders('source_priority is null') }}",
               "{{ identity_log_marker('records') }}", "{{ identity_prune_log() }}"]
) }}
-- depends_on: {{ ref('int_identity__record_changes') }}
-- depends_on: {{ source('raw', 'pos__receipts') }} {{ source('raw', 'callcenter__calls') }}
-- depends_on: {{ source('raw', 'esp__events') }} {{ source('raw', 'web__events') }}
-- Every source record that can identify a person, with the attributes the golden record and
-- the identity guards use. One row per (source, source_record_id), ids exactly as sent.
-- `has_name` records (CRM members, accounts, form signups) carry a name signature that the
-- guards compare; contact-only records (a recipient, a caller phone, a card, a cookie) do not.
-- Incremental (macros/identity.sql): a night recomputes the candidate records from all of
-- staging, rewrites those whose row changed, and logs them in int_identity__record_changes.
{%- set prev = identity_previous_build('records') %}

with
{% if prev is not none -%}
candidates as (
    {{ identity_candidates(prev) }}
),
{%- endif %}

crm as (
    select 'crm' as source, crm_id as source_record_id, 1 as source_priority,
        first_name, last_name, first_name_key, last_name_key, birth_date,
        email, phone_e164, address_line, postcode, city, country,
        coalesce(created_at, updated_at) as seen_at, updated_at as record_updated_at
    from {{ ref('stg_crm__customers') }}
    where true {{ identity_only(prev, 'crm', 'crm_id') }}
),

accounts as (
    select 'ecommerce', account_id, 2,
        first_name, last_name, first_name_key, last_name_key, birth_date,
        email, phone_e164, address_line, postcode, city, country,
        coalesce(created_at, updated_at), updated_at
    from {{ ref('stg_ecommerce__accounts') }}
    where true {{ identity_only(prev, 'ecommerce', 'account_id') }}
),

signups as (
    select 'forms', signup_id, 3,
        first_name, last_name, first_name_key, last_name_key, cast(null as date),
        email, cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), postcode, cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        submitted_at, submitted_at
    from {{ ref('stg_forms__signups') }}
    where true {{ identity_only(prev, 'forms', 'signup_id') }}
),

guest_orders as (
    select 'ecommerce', order_id, 4,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as date),
        guest_email, cast(null as {{ dbt.type_string() }}), shipping_address_line, shipping_postcode, shipping_city, shipping_country,
        ordered_at, ordered_at
    from {{ ref('stg_ecommerce__orders') }}
    where account_id is null and guest_email is not null {{ identity_only(prev, 'ecommerce', 'order_id') }}
),

partner_appends as (
    select 'partners', crm_id, 5,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as date),
        appended_email, cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        appended_at, appended_at
    from {{ ref('stg_partners__email_appends') }}
    where true {{ identity_only(prev, 'partners', 'crm_id') }}
),

cards as (
    select 'pos', loyalty_card_id, 6,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as date),
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        min(purchased_at), max(purchased_at)
    from {{ ref('stg_pos__receipt_lines') }}
    where loyalty_card_id is not null {{ identity_only(prev, 'pos', 'loyalty_card_id') }}
    group by loyalty_card_id
),

callers as (
    select 'callcenter', caller_phone_raw, 7,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as date),
        cast(null as {{ dbt.type_string() }}), max(caller_phone_e164), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        min(called_at), max(called_at)
    from {{ ref('stg_callcenter__calls') }}
    where caller_phone_raw is not null {{ identity_only(prev, 'callcenter', 'caller_phone_raw') }}
    group by caller_phone_raw
),

recipients as (
    select 'esp', recipient_raw, 8,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as date),
        max(recipient_email_key), max(recipient_phone_e164), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        min(occurred_at), max(occurred_at)
    from {{ ref('stg_esp__events') }}
    where recipient_raw is not null {{ identity_only(prev, 'esp', 'recipient_raw') }}
    group by recipient_raw
),

cookies as (
    select 'web', anonymous_id, 9,
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as date),
        cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
        min(occurred_at), max(occurred_at)
    from {{ ref('stg_web__events') }}
    where anonymous_id is not null {{ identity_only(prev, 'web', 'anonymous_id') }}
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
),

fresh as (
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
)

{% if not is_incremental() -%}
select *, {{ identity_stamp() }} as changed_at from fresh
{%- else -%}
{%- set cols = 'source, source_record_id, source_priority, first_name, last_name, first_name_key, last_name_key, '
               ~ 'name_signature, birth_date, email, phone_e164, address_line, postcode, city, country, seen_at, '
               ~ 'record_updated_at' -%}
, held as (
    select {{ cols }} from {{ this }} t
    {%- if prev is not none %}
    where exists (select 1 from candidates c where c.source = t.source and c.source_record_id = t.source_record_id)
    {%- endif %}
),

changed as (
    select source, source_record_id from (select {{ cols }} from fresh except select {{ cols }} from held) a
    union
    select source, source_record_id from (select {{ cols }} from held except select {{ cols }} from fresh) b
)

-- rewritten records, and a tombstone (null source_priority) for every changed record: the
-- delete+insert removes its old row, the post-hook the tombstone
select f.*, {{ identity_stamp() }} as changed_at
from fresh f join changed c on c.source = f.source and c.source_record_id = f.source_record_id
union all
select c.source, c.source_record_id, cast(null as integer), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
       cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as date),
       cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}),
       cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), cast(null as timestamp), cast(null as timestamp),
       {{ identity_stamp() }}
from changed c
{%- endif %}
