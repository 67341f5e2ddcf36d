{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='event_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('event_date') }}",
    post_hook="{{ log_reattribution_build() }}"
) }}
-- depends_on: {{ ref('int_customer__record_sets') }}
-- depends_on: {{ ref('int_customer__reattribution_log') }}
-- Every e-mail/SMS delivery and reaction under the one customer key. The recipient (an e-mail
-- or a phone, personal data) stays in staging: facts carry only the customer key.
-- Incremental: the events dated in the window, plus the events whose customer may have changed,
-- found through the customers whose record set changed since the last build
-- (int_customer__record_sets) instead of comparing every event with tonight's clusters:
--   - every event of a recipient now under such a customer is re-attributed (a merge, a split,
--     a recipient that moved or newly joined someone);
--   - an event still under such a customer whose recipient is under nobody now (its record
--     gone, or erased) loses its customer. A recipient that moved to someone else made that
--     someone's record set change too, so it is in the first case.
{%- set since = 'cast(' ~ incremental_since('event_date') ~ ' as date)' %}
with staged as (
    {%- set columns = 'e.event_id, e.campaign_id, e.recipient_raw, e.recipient_kind, e.event_type, e.occurred_at, e.event_date' %}
    select {{ columns }}
    from {{ ref('stg_esp__events') }} e
    {%- if is_incremental() %}
    where e.event_date >= {{ since }}

    union all

    select {{ columns }}
    from {{ ref('stg_esp__events') }} e
    where e.event_date < {{ since }}
      and e.recipient_raw in (
        select c.source_record_id from {{ source('identity', 'record_clusters') }} c
        where c.source = 'esp' and c.customer_id in ({{ identity_changed_customers('event_date') }})
      )
    {%- endif %}
),

events as (
    select
        e.event_id,
        e.campaign_id,
        c.customer_id,
        coalesce(cmp.channel, case when e.recipient_kind = 'email' then 'email' else 'sms' end) as channel,
        e.event_type,
        e.occurred_at,
        e.event_date
    from staged e
    left join {{ source('identity', 'record_clusters') }} c
        on c.source = 'esp' and c.source_record_id = e.recipient_raw
    left join {{ ref('stg_esp__campaigns') }} cmp on cmp.campaign_id = e.campaign_id
    {%- if is_incremental() %}

    union all

    select t.event_id, t.campaign_id, cast(null as {{ dbt.type_string() }}) as customer_id, t.channel,
        t.event_type, t.occurred_at, t.event_date
    from {{ this }} t
    where t.event_date < {{ since }}
      and t.customer_id in ({{ identity_changed_customers('event_date') }})
      and not exists (select 1 from staged s where s.event_id = t.event_id)
    {%- endif %}
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
