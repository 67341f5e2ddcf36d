{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['source', 'source_record_id'],
    on_schema_change='append_new_columns',
    post_hook=["{{ identity_log_rows('keys') }}", "{{ drop_placeholders('key_value is null') }}",
               "{{ identity_log_marker('keys') }}", "{{ identity_prune_log() }}"]
) }}
-- depends_on: {{ ref('int_identity__record_changes') }}
-- depends_on: {{ source('raw', 'pos__receipts') }} {{ source('raw', 'callcenter__calls') }}
-- depends_on: {{ source('raw', 'esp__events') }} {{ source('raw', 'web__events') }}
-- Hard identifiers of each source record, long format: (record, key_type, key_value).
-- Two records sharing a key value are candidates for deterministic stitching; the identity
-- step decides which values are trustworthy (household and placeholder values are not).
-- Incremental (macros/identity.sql): a night recomputes the key set of the candidate records
-- from all of staging, rewrites the records whose set changed, and logs them in
-- int_identity__record_changes.
{%- set prev = identity_previous_build('keys') %}

with
{% if prev is not none -%}
candidates as (
    {{ identity_candidates(prev) }}
),
{%- endif %}

-- the staging rows of the candidate records only (all rows on a whole build)
crm_rows as (select * from {{ ref('stg_crm__customers') }} where true {{ identity_only(prev, 'crm', 'crm_id') }}),
account_rows as (select * from {{ ref('stg_ecommerce__accounts') }} where true {{ identity_only(prev, 'ecommerce', 'account_id') }}),
guest_rows as (select * from {{ ref('stg_ecommerce__orders') }} where account_id is null {{ identity_only(prev, 'ecommerce', 'order_id') }}),
form_rows as (select * from {{ ref('stg_forms__signups') }} where true {{ identity_only(prev, 'forms', 'signup_id') }}),
partner_rows as (select * from {{ ref('stg_partners__email_appends') }} where true {{ identity_only(prev, 'partners', 'crm_id') }}),
pos_rows as (select * from {{ ref('stg_pos__receipt_lines') }} where true {{ identity_only(prev, 'pos', 'loyalty_card_id') }}),
call_rows as (select * from {{ ref('stg_callcenter__calls') }} where true {{ identity_only(prev, 'callcenter', 'caller_phone_raw') }}),
esp_rows as (select * from {{ ref('stg_esp__events') }} where true {{ identity_only(prev, 'esp', 'recipient_raw') }}),
web_rows as (select * from {{ ref('stg_web__events') }} where true {{ identity_only(prev, 'web', 'anonymous_id') }}),

keys as (
    select 'crm' as source, crm_id as source_record_id, 'crm_id' as key_type, crm_id as key_value from crm_rows
    union all select 'crm', crm_id, 'email', email_key from crm_rows
    union all select 'crm', crm_id, 'phone', phone_e164 from crm_rows
    union all select 'crm', crm_id, 'loyalty_card', loyalty_card_id from crm_rows

    union all select 'ecommerce', account_id, 'account_id', account_id from account_rows
    union all select 'ecommerce', account_id, 'email', email_key from account_rows
    union all select 'ecommerce', account_id, 'phone', phone_e164 from account_rows
    union all select 'ecommerce', account_id, 'loyalty_card', loyalty_card_id from account_rows

    union all select 'ecommerce', order_id, 'email', guest_email_key from guest_rows

    union all select 'forms', signup_id, 'email', email_key from form_rows

    union all select 'partners', crm_id, 'crm_id', crm_id from partner_rows
    union all select 'partners', crm_id, 'email', appended_email_key from partner_rows

    union all select 'pos', loyalty_card_id, 'loyalty_card', loyalty_card_id from pos_rows

    union all select 'callcenter', caller_phone_raw, 'phone', caller_phone_e164 from call_rows
    union all select 'callcenter', caller_phone_raw, 'crm_id', crm_id from call_rows
    -- a call about an order names it: the caller is who placed it (the order's account, or the
    -- e-mail of a guest order); a household member calling about another's order makes the
    -- caller's number bridge two people, which the stitching guards catch
    union all select 'callcenter', c.caller_phone_raw, 'account_id', o.account_id
    from call_rows c join {{ ref('stg_ecommerce__orders') }} o on o.order_id = c.order_id
    union all select 'callcenter', c.caller_phone_raw, 'email', o.guest_email_key
    from call_rows c join {{ ref('stg_ecommerce__orders') }} o on o.order_id = c.order_id
    where o.account_id is null

    union all select 'esp', recipient_raw, 'email', recipient_email_key from esp_rows
    union all select 'esp', recipient_raw, 'phone', recipient_phone_e164 from esp_rows

    -- a cookie that logged in is linked to the account, for all its hits, also the earlier ones
    union all select 'web', anonymous_id, 'account_id', account_id from web_rows
),

fresh as (
    select distinct source, source_record_id, key_type, key_value
    from keys k
    where source_record_id is not null and key_value is not null
)

{% if not is_incremental() -%}
select *, {{ identity_stamp() }} as changed_at from fresh
{%- else -%}
, held as (
    select source, source_record_id, key_type, key_value from {{ this }} t
    {%- if prev is not none %}
    where exists (select 1 from candidates c where c.source = t.source and c.source_record_id = t.source_record_id)
    {%- endif %}
),

changed as (
    select source, source_record_id from (select * from fresh except select * from held) a
    union
    select source, source_record_id from (select * from held except select * from fresh) b
)

-- the new key set of every changed record, and a tombstone (null key): the delete+insert
-- removes its old keys, the post-hook the tombstone
select f.*, {{ identity_stamp() }} as changed_at
from fresh f join changed c on c.source = f.source and c.source_record_id = f.source_record_id
union all
select source, source_record_id, cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), {{ identity_stamp() }}
from changed
{%- endif %}
