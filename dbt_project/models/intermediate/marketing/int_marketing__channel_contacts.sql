-- Per customer and contact channel (email, sms), as of the night: what they received and how
-- they reacted, the contact pressure of the last 7 and 30 days, and the last bounce and the
-- last opt-out signal (unsubscribe, complaint), which the audience honours.
with events as (
    select * from {{ ref('fct_message_events') }}
    where customer_id is not null and event_date <= {{ as_of_date() }}
)

select
    customer_id,
    channel,
    cast(sum(case when event_type = 'sent' then 1 else 0 end) as integer) as messages_sent,
    cast(sum(case when event_type = 'delivered' then 1 else 0 end) as integer) as messages_delivered,
    cast(count(distinct case when event_type = 'open' then campaign_id end) as integer) as campaigns_opened,
    cast(count(distinct case when event_type = 'click' then campaign_id end) as integer) as campaigns_clicked,
    cast(count(distinct case when event_type in ('sent', 'delivered') then campaign_id end) as integer)
        as campaigns_received,
    cast(sum(case when event_type = 'sent'
                   and event_date > {{ dbt.dateadd('day', -7, as_of_date()) }} then 1 else 0 end) as integer)
        as contacts_7d,
    cast(sum(case when event_type = 'sent'
                   and event_date > {{ dbt.dateadd('day', -30, as_of_date()) }} then 1 else 0 end) as integer)
        as contacts_30d,
    max(case when event_type = 'bounce' then event_date end) as last_bounce_date,
    max(case when event_type = 'delivered' then event_date end) as last_delivered_date,
    max(case when event_type in ('unsubscribe', 'complaint') then event_date end) as last_opt_out_date,
    max(case when is_reaction then event_date end) as last_reaction_date
from events
group by customer_id, channel
