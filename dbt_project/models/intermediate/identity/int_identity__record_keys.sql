-- Hard identifiers of each source record, long format: (record, key_type, key_value).
-- Two records sharing a key value are candidates for deterministic stitching; the identity
-- step decides which values are trustworthy (household and placeholder values are not).

with keys as (
    select 'crm' as source, crm_id as source_record_id, 'crm_id' as key_type, crm_id as key_value
    from {{ ref('stg_crm__customers') }}
    union all select 'crm', crm_id, 'email', email_key from {{ ref('stg_crm__customers') }}
    union all select 'crm', crm_id, 'phone', phone_e164 from {{ ref('stg_crm__customers') }}
    union all select 'crm', crm_id, 'loyalty_card', loyalty_card_id from {{ ref('stg_crm__customers') }}

    union all select 'ecommerce', account_id, 'account_id', account_id from {{ ref('stg_ecommerce__accounts') }}
    union all select 'ecommerce', account_id, 'email', email_key from {{ ref('stg_ecommerce__accounts') }}
    union all select 'ecommerce', account_id, 'phone', phone_e164 from {{ ref('stg_ecommerce__accounts') }}
    union all select 'ecommerce', account_id, 'loyalty_card', loyalty_card_id from {{ ref('stg_ecommerce__accounts') }}

    union all select 'ecommerce', order_id, 'email', guest_email_key
    from {{ ref('stg_ecommerce__orders') }} where account_id is null

    union all select 'forms', signup_id, 'email', email_key from {{ ref('stg_forms__signups') }}

    union all select 'partners', crm_id, 'crm_id', crm_id from {{ ref('stg_partners__email_appends') }}
    union all select 'partners', crm_id, 'email', appended_email_key from {{ ref('stg_partners__email_appends') }}

    union all select 'pos', loyalty_card_id, 'loyalty_card', loyalty_card_id
    from {{ ref('stg_pos__receipt_lines') }}

    union all select 'callcenter', caller_phone_raw, 'phone', caller_phone_e164 from {{ ref('stg_callcenter__calls') }}
    union all select 'callcenter', caller_phone_raw, 'crm_id', crm_id from {{ ref('stg_callcenter__calls') }}
    -- a call about an order names it: the caller is who placed it (the order's account, or the
    -- e-mail of a guest order); a household member calling about another's order makes the
    -- caller's number bridge two people, which the stitching guards catch
    union all select 'callcenter', c.caller_phone_raw, 'account_id', o.account_id
    from {{ ref('stg_callcenter__calls') }} c join {{ ref('stg_ecommerce__orders') }} o on o.order_id = c.order_id
    union all select 'callcenter', c.caller_phone_raw, 'email', o.guest_email_key
    from {{ ref('stg_callcenter__calls') }} c join {{ ref('stg_ecommerce__orders') }} o on o.order_id = c.order_id
    where o.account_id is null

    union all select 'esp', recipient_raw, 'email', recipient_email_key from {{ ref('stg_esp__events') }}
    union all select 'esp', recipient_raw, 'phone', recipient_phone_e164 from {{ ref('stg_esp__events') }}

    -- a cookie that logged in is linked to the account, for all its hits, also the earlier ones
    union all select 'web', anonymous_id, 'account_id', account_id from {{ ref('stg_web__events') }}
)

select distinct source, source_record_id, key_type, key_value
from keys
where source_record_id is not null and key_value is not null
