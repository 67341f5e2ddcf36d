-- Per customer and contact channel (email, sms), as of the night: what they received and how
-- they reacted, the contact pressure of the last 7 and 30 days, and the last bounce and the
-- last opt-out signal (unsubscribe, complaint), which the audience honours.
-- Two steps: per customer, channel and campaign first (whether the campaign was received,
-- opened, clicked), then per customer and channel, which counts distinct campaigns as sums
-- instead of three count(distinct) over every event.
with events as (
    select customer_id, channel, campaign_id, event_type, event_date, is_reaction
    from {{ ref('fct_message_events') }}
    where customer_id is not null and event_date <= {{ as_of_date() }}
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
        sum(case when event_type = 'sent'
                  and event_date > {{ dbt.dateadd('day', -7, as_of_date()) }} then 1 else 0 end) as sent_7d,
        sum(case when event_type = 'sent'
                  and event_date > {{ dbt.dateadd('day', -30, as_of_date()) }} then 1 else 0 end) as sent_30d,
        max(case when event_type = 'bounce' then event_date end) as last_bounce_date,
        max(case when event_type = 'delivered' then event_date end) as last_delivered_date,
        max(case when event_type in ('unsubscribe', 'complaint') then event_date end) as last_opt_out_date,
        max(case when is_reaction then event_date end) as last_reaction_date
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
    cast(sum(sent_7d) as integer) as contacts_7d,
    cast(sum(sent_30d) as integer) as contacts_30d,
    max(last_bounce_date) as last_bounce_date,
    max(last_delivered_date) as last_delivered_date,
    max(last_opt_out_date) as last_opt_out_date,
    max(last_reaction_date) as last_reaction_date
from per_campaign
group by customer_id, channel
