{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('event_date') }}"
) }}
-- Every e-mail/SMS delivery and reaction under the one customer key. The recipient (an e-mail
-- or a phone, personal data) stays in staging: facts carry only the customer key.
-- Incremental: the events dated in the window, plus older events whose recipient now resolves
-- to another customer (a merge, a split, a shared address newly attributed).
with events as (
    select
        e.event_id,
        e.campaign_id,
        c.customer_id,
        coalesce(cmp.channel, case when e.recipient_kind = 'email' then 'email' else 'sms' end) as channel,
        e.event_type,
        e.occurred_at,
        e.event_date
    from {{ ref('stg_esp__events') }} e
    left join {{ source('identity', 'record_clusters') }} c
        on c.source = 'esp' and c.source_record_id = e.recipient_raw
    left join {{ ref('stg_esp__campaigns') }} cmp on cmp.campaign_id = e.campaign_id
)

select
    event_id,
    campaign_id,
    customer_id,
    channel,
    event_type,
    occurred_at,
    event_date,
    event_type in ('open', 'click') as is_reaction,
    event_type in ('bounce', 'unsubscribe', 'complaint') as is_opt_out_signal
from events
{% if is_incremental() %}
where event_date >= {{ incremental_since('event_date') }}
   or exists (
        select 1 from {{ this }} t
        where t.event_id = events.event_id and t.customer_id is distinct from events.customer_id
   )
{% endif %}
