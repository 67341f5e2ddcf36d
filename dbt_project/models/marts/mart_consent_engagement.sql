-- Does consent pay? Customers grouped by their consent status tonight (e-mail and SMS), with
-- their engagement (messages received, open and click rates per campaign received, web
-- sessions) and their revenue over the last 365 days and all time.
with customers as (
    select
        customer_id,
        case
            when consent_email and consent_sms then 'email_and_sms'
            when consent_email then 'email_only'
            when consent_sms then 'sms_only'
            else 'none'
        end as consent_status,
        consent_email,
        consent_sms
    from {{ ref('dim_customer') }}
    where not is_erased
),

messages as (
    select
        customer_id,
        sum(messages_sent) as messages_sent,
        sum(campaigns_received) as campaigns_received,
        sum(campaigns_opened) as campaigns_opened,
        sum(campaigns_clicked) as campaigns_clicked
    from {{ ref('int_marketing__channel_contacts') }}
    group by customer_id
),

sessions as (
    select customer_id, count(*) as web_sessions
    from {{ ref('fct_web_sessions') }}
    where customer_id is not null and session_date <= {{ as_of_date() }}
    group by customer_id
),

purchases as (
    select
        customer_id,
        count(*) as orders,
        sum(net_amount) as revenue,
        sum(case when order_date > {{ dbt.dateadd('day', -365, as_of_date()) }} then 1 else 0 end) as orders_365d,
        sum(case when order_date > {{ dbt.dateadd('day', -365, as_of_date()) }} then net_amount else 0 end)
            as revenue_365d
    from {{ ref('int_orders__purchases') }}
    where customer_id is not null
    group by customer_id
)

select
    c.consent_status,
    c.consent_email,
    c.consent_sms,
    cast(count(*) as integer) as customers,
    cast(sum(coalesce(m.messages_sent, 0)) as integer) as messages_sent,
    cast(sum(coalesce(m.campaigns_opened, 0)) as double) / nullif(sum(m.campaigns_received), 0) as open_rate,
    cast(sum(coalesce(m.campaigns_clicked, 0)) as double) / nullif(sum(m.campaigns_received), 0) as click_rate,
    cast(avg(coalesce(s.web_sessions, 0)) as double) as web_sessions_per_customer,
    cast(sum(case when p.orders > 0 then 1 else 0 end) as integer) as buyers,
    cast(sum(case when p.orders > 0 then 1 else 0 end) as double) / count(*) as buyer_rate,
    cast(sum(case when p.orders_365d > 0 then 1 else 0 end) as integer) as buyers_365d,
    cast(sum(coalesce(p.revenue_365d, 0)) as decimal(18, 2)) as revenue_365d,
    cast(sum(coalesce(p.revenue, 0)) as decimal(18, 2)) as revenue,
    cast(sum(coalesce(p.revenue_365d, 0)) / count(*) as decimal(18, 2)) as revenue_365d_per_customer,
    cast(avg(coalesce(p.orders, 0)) as double) as orders_per_customer
from customers c
left join messages m on m.customer_id = c.customer_id
left join sessions s on s.customer_id = c.customer_id
left join purchases p on p.customer_id = c.customer_id
group by c.consent_status, c.consent_email, c.consent_sms
