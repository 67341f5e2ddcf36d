-- Campaigns sent by the e-mail/SMS platform with their delivery and reaction counts.
with events as (
    select
        campaign_id,
        sum(case when event_type = 'sent' then 1 else 0 end) as sent,
        sum(case when event_type = 'delivered' then 1 else 0 end) as delivered,
        sum(case when event_type = 'open' then 1 else 0 end) as opens,
        sum(case when event_type = 'click' then 1 else 0 end) as clicks,
        sum(case when event_type = 'bounce' then 1 else 0 end) as bounces,
        sum(case when event_type = 'unsubscribe' then 1 else 0 end) as unsubscribes,
        sum(case when event_type = 'complaint' then 1 else 0 end) as complaints
    from {{ ref('fct_message_events') }}
    where event_date <= {{ as_of_date() }}
    group by campaign_id
)

select
    c.campaign_id,
    c.campaign_name,
    c.channel,
    c.objective,
    c.sent_at,
    c.sent_date,
    c.offer_code,
    {% for m in ['sent', 'delivered', 'opens', 'clicks', 'bounces', 'unsubscribes', 'complaints'] %}
    cast(coalesce(e.{{ m }}, 0) as integer) as {{ m }},
    {% endfor %}
    cast(e.opens as double) / nullif(e.delivered, 0) as open_rate,
    cast(e.clicks as double) / nullif(e.delivered, 0) as click_rate
from {{ ref('stg_esp__campaigns') }} c
left join events e on e.campaign_id = c.campaign_id
