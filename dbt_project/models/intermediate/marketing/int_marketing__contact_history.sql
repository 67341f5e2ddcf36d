{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='append_new_columns',
    post_hook=["{{ drop_placeholders('channel is null') }}", "{{ log_reattribution_build() }}"]
) }}
-- depends_on: {{ ref('int_customer__record_sets') }}
-- depends_on: {{ ref('int_customer__reattribution_log') }}
-- Per customer and contact channel, as of the night, over the customer's whole history: what
-- they were sent and how they reacted (distinct campaigns), the last bounce, delivery, opt-out
-- signal and reaction. Nothing here depends on the night's date except the events it reads, so
-- a night re-aggregates only the customers it can change (unique key: the customer, all
-- channels at once):
--   - those with an event dated since incremental_since() (the window, or catching up);
--   - those whose record set changed since then (int_customer__record_sets): their events were
--     re-attributed in fct_message_events, to them or away from them;
--   - those whose rows come from events after the night (a replay of an earlier night).
-- A re-read customer with no event left gets one placeholder row (channel null) that replaces
-- their old rows; the post_hook deletes it. The contact pressure (7 / 30 days), which moves
-- every night, is int_marketing__channel_contacts' own.
{%- if is_incremental() %}
with reread as (
    select customer_id from {{ ref('fct_message_events') }}
    where event_date >= {{ incremental_since('last_event_date') }} and customer_id is not null
    union
    {{ identity_changed_customers('last_event_date') }}
    union
    select customer_id from {{ this }} where last_event_date > {{ as_of_date() }}
),
{%- else %}
with
{%- endif %}

events as (
    select e.customer_id, e.channel, e.campaign_id, e.event_type, e.event_date, e.is_reaction
    from {{ ref('fct_message_events') }} e
    where e.customer_id is not null and e.event_date <= {{ as_of_date() }}
    {%- if is_incremental() %}
      and e.customer_id in (select customer_id from reread)
    {%- endif %}
),

per_campaign as (
    select
        customer_id,
        channel,
        campaign_id,
        sum(case when event_type = 'sent' then 1 else 0 end) as sent,
        sum(case when event_type = 'delivered' then 1 else 0 end) as delivered,
        max(case when event_type = 'open' then 1 else 0 end) as opened,
        max(case when event_type = 'click' then 1 else 0 end) as clicked,
        max(case when event_type in ('sent', 'delivered') then 1 else 0 end) as received,
        max(case when event_type = 'bounce' then event_date end) as last_bounce_date,
        max(case when event_type = 'delivered' then event_date end) as last_delivered_date,
        max(case when event_type in ('unsubscribe', 'complaint') then event_date end) as last_opt_out_date,
        max(case when is_reaction then event_date end) as last_reaction_date,
        max(event_date) as last_event_date
    from events
    group by customer_id, channel, campaign_id
)

select
    customer_id,
    channel,
    cast(sum(sent) as integer) as messages_sent,
    cast(sum(delivered) as integer) as messages_delivered,
    cast(sum(case when campaign_id is not null then opened else 0 end) as integer) as campaigns_opened,
    cast(sum(case when campaign_id is not null then clicked else 0 end) as integer) as campaigns_clicked,
    cast(sum(case when campaign_id is not null then received else 0 end) as integer) as campaigns_received,
    max(last_bounce_date) as last_bounce_date,
    max(last_delivered_date) as last_delivered_date,
    max(last_opt_out_date) as last_opt_out_date,
    max(last_reaction_date) as last_reaction_date,
    max(last_event_date) as last_event_date
from per_campaign
group by customer_id, channel
{%- if is_incremental() %}

union all

select
    r.customer_id,
    cast(null as {{ dbt.type_string() }}) as channel,
    null as messages_sent, null as messages_delivered, null as campaigns_opened,
    null as campaigns_clicked, null as campaigns_received,
    null as last_bounce_date, null as last_delivered_date, null as last_opt_out_date,
    null as last_reaction_date, null as last_event_date
from reread r
where not exists (select 1 from events e where e.customer_id = r.customer_id)
{%- endif %}
