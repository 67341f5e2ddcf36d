-- Per customer, as of the night: e-mail and SMS reactivity (open, click and conversion rates
-- per campaign received), preferred channels (the contact channel they react to most, the
-- sales channel they buy through most) and contact pressure for the person and the household.
-- A conversion is a purchase within 7 days after clicking a campaign.
with contacts as (
    select * from {{ ref('int_marketing__channel_contacts') }}
),

clicks as (
    select customer_id, channel, campaign_id, min(event_date) as clicked_date
    from {{ ref('fct_message_events') }}
    where event_type = 'click' and customer_id is not null and event_date <= {{ as_of_date() }}
    group by customer_id, channel, campaign_id
),

conversions as (
    select k.customer_id, k.channel, count(distinct k.campaign_id) as campaigns_converted
    from clicks k
    join {{ ref('int_orders__purchases') }} p
        on p.customer_id = k.customer_id
       and p.order_date >= k.clicked_date
       and p.order_date <= {{ dbt.dateadd('day', 7, 'k.clicked_date') }}
    group by k.customer_id, k.channel
),

purchases as (
    select
        customer_id,
        sum(case when channel = 'web' then 1 else 0 end) as web_purchases,
        sum(case when channel = 'store' then 1 else 0 end) as store_purchases
    from {{ ref('int_orders__purchases') }}
    where customer_id is not null
    group by customer_id
),

households as (
    select h.customer_id, h.household_id,
           sum(coalesce(c.contacts_7d, 0)) over (partition by h.household_id) as household_contacts_7d,
           sum(coalesce(c.contacts_30d, 0)) over (partition by h.household_id) as household_contacts_30d
    from {{ ref('int_customer__households') }} h
    left join (
        select customer_id, sum(contacts_7d) as contacts_7d, sum(contacts_30d) as contacts_30d
        from contacts group by customer_id
    ) c on c.customer_id = h.customer_id
),

per_customer as (
    select
        d.customer_id,
        {% for ch in ['email', 'sms'] %}
        coalesce({{ ch }}.messages_sent, 0) as {{ ch }}_sent,
        coalesce({{ ch }}.campaigns_received, 0) as {{ ch }}_campaigns_received,
        coalesce({{ ch }}.campaigns_opened, 0) as {{ ch }}_campaigns_opened,
        coalesce({{ ch }}.campaigns_clicked, 0) as {{ ch }}_campaigns_clicked,
        coalesce({{ ch }}_conv.campaigns_converted, 0) as {{ ch }}_campaigns_converted,
        {% endfor %}
        coalesce(email.contacts_7d, 0) + coalesce(sms.contacts_7d, 0) as contacts_7d,
        coalesce(email.contacts_30d, 0) + coalesce(sms.contacts_30d, 0) as contacts_30d,
        coalesce(p.web_purchases, 0) as web_purchases,
        coalesce(p.store_purchases, 0) as store_purchases,
        h.household_id,
        coalesce(h.household_contacts_7d, 0) as household_contacts_7d,
        coalesce(h.household_contacts_30d, 0) as household_contacts_30d
    from {{ ref('dim_customer') }} d
    left join contacts email on email.customer_id = d.customer_id and email.channel = 'email'
    left join contacts sms on sms.customer_id = d.customer_id and sms.channel = 'sms'
    left join conversions email_conv on email_conv.customer_id = d.customer_id and email_conv.channel = 'email'
    left join conversions sms_conv on sms_conv.customer_id = d.customer_id and sms_conv.channel = 'sms'
    left join purchases p on p.customer_id = d.customer_id
    left join households h on h.customer_id = d.customer_id
)

select
    customer_id,
    {{ as_of_date() }} as snapshot_date,
    {% for ch in ['email', 'sms'] %}
    cast({{ ch }}_sent as integer) as {{ ch }}_sent,
    cast({{ ch }}_campaigns_received as integer) as {{ ch }}_campaigns_received,
    cast({{ ch }}_campaigns_opened as double) / nullif({{ ch }}_campaigns_received, 0) as {{ ch }}_open_rate,
    cast({{ ch }}_campaigns_clicked as double) / nullif({{ ch }}_campaigns_received, 0) as {{ ch }}_click_rate,
    cast({{ ch }}_campaigns_converted as double) / nullif({{ ch }}_campaigns_clicked, 0) as {{ ch }}_conversion_rate,
    {% endfor %}
    case
        when email_campaigns_opened + email_campaigns_clicked + sms_campaigns_opened + sms_campaigns_clicked = 0
            then null
        when sms_campaigns_opened + sms_campaigns_clicked > email_campaigns_opened + email_campaigns_clicked
            then 'sms'
        else 'email'
    end as preferred_contact_channel,
    case
        when web_purchases + store_purchases = 0 then null
        when web_purchases > store_purchases then 'web'
        when store_purchases > web_purchases then 'store'
        else 'web'
    end as preferred_purchase_channel,
    cast(web_purchases as integer) as web_purchases,
    cast(store_purchases as integer) as store_purchases,
    cast(contacts_7d as integer) as contacts_7d,
    cast(contacts_30d as integer) as contacts_30d,
    household_id,
    cast(household_contacts_7d as integer) as household_contacts_7d,
    cast(household_contacts_30d as integer) as household_contacts_30d
from per_customer
