-- Per customer: the first marketing action that reached them (an e-mail/SMS campaign sent to
-- them, or a web session that arrived from a tagged campaign link) and their first purchase.
with touches as (
    select
        e.customer_id,
        e.occurred_at as touched_at,
        e.channel as touch_channel,
        coalesce(c.campaign_name, e.campaign_id) as touch_campaign
    from {{ ref('fct_message_events') }} e
    left join {{ ref('stg_esp__campaigns') }} c on c.campaign_id = e.campaign_id
    where e.customer_id is not null and e.event_type = 'sent' and e.event_date <= {{ as_of_date() }}

    union all

    select
        customer_id,
        session_start as touched_at,
        {{ dbt.concat(["'web_'", "coalesce(utm_medium, 'referral')"]) }} as touch_channel,
        coalesce(utm_campaign, utm_source) as touch_campaign
    from {{ ref('fct_web_sessions') }}
    where customer_id is not null and utm_source is not null and session_date <= {{ as_of_date() }}
),

first_touch as (
    select customer_id, touched_at, touch_channel, touch_campaign
    from (
        select
            *,
            row_number() over (partition by customer_id order by touched_at, touch_channel, touch_campaign) as rn
        from touches
    ) ranked
    where rn = 1
),

first_purchase as (
    select customer_id, ordered_at as first_ordered_at, order_date as first_order_date, channel as first_order_channel
    from {{ ref('int_orders__purchases') }}
    where purchase_number = 1
)

select
    t.customer_id,
    t.touched_at as first_touched_at,
    t.touch_channel as first_touch_channel,
    coalesce(t.touch_campaign, '(none)') as first_touch_campaign,
    p.first_ordered_at,
    p.first_order_channel,
    case when p.first_ordered_at >= t.touched_at
         then cast({{ dbt.datediff('cast(t.touched_at as date)', 'p.first_order_date', 'day') }} as integer)
    end as days_to_first_order,
    p.first_ordered_at is not null and p.first_ordered_at < t.touched_at as bought_before_first_touch
from first_touch t
left join first_purchase p on p.customer_id = t.customer_id
