-- Per customer and contact channel (email, sms), as of the night: what they received and how
-- they reacted, the contact pressure of the last 7 and 30 days, and the last bounce and the
-- last opt-out signal (unsubscribe, complaint), which the audience honours.
-- The history comes from int_marketing__contact_history (incremental per customer); only the
-- pressure, which moves with the night, is counted here, from the last 30 days of sends.
with pressure as (
    select
        customer_id,
        channel,
        sum(case when event_date > {{ dbt.dateadd('day', -7, as_of_date()) }} then 1 else 0 end) as sent_7d,
        count(*) as sent_30d
    from {{ ref('fct_message_events') }}
    where customer_id is not null and event_type = 'sent'
      and event_date > {{ dbt.dateadd('day', -30, as_of_date()) }} and event_date <= {{ as_of_date() }}
    group by customer_id, channel
)

select
    h.customer_id,
    h.channel,
    h.messages_sent,
    h.messages_delivered,
    h.campaigns_opened,
    h.campaigns_clicked,
    h.campaigns_received,
    cast(coalesce(p.sent_7d, 0) as integer) as contacts_7d,
    cast(coalesce(p.sent_30d, 0) as integer) as contacts_30d,
    h.last_bounce_date,
    h.last_delivered_date,
    h.last_opt_out_date,
    h.last_reaction_date
from {{ ref('int_marketing__contact_history') }} h
left join pressure p on p.customer_id = h.customer_id and p.channel = h.channel
