{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='append_new_columns',
    post_hook=["{{ drop_placeholders('first_touched_at is null') }}", "{{ log_reattribution_build() }}"]
) }}
-- depends_on: {{ ref('int_customer__record_sets') }}
-- depends_on: {{ ref('int_customer__reattribution_log') }}
-- Per customer: the first marketing action that reached them (an e-mail/SMS campaign sent to
-- them, or a web session that arrived from a tagged campaign link) and their first purchase.
-- Incremental on the customer: a night re-reads the whole history of the customers it can change
-- only (every sent message of everyone was ranked each night before, 46 M rows at a million
-- customers):
--   - those with a sent message or a tagged session dated since the model's last night (the
--     facts' window, or earlier after missed nights);
--   - those whose record set changed since then: their facts were re-attributed;
--   - those whose stored first purchase is not tonight's (a new first purchase, a cancelled one),
--     whose first campaign got another name (a campaign file after its messages), or whose row
--     comes from after the night (a replay of an earlier night).
-- A re-read customer left with no marketing action gets a placeholder row (first_touched_at
-- null) that replaces their old one; the post_hook deletes it.
{%- set incremental = is_incremental() %}
with first_purchase as (
    select customer_id, ordered_at as first_ordered_at, order_date as first_order_date, channel as first_order_channel
    from {{ ref('int_orders__purchases') }}
    where purchase_number = 1
),

campaigns as (
    select campaign_id, campaign_name from {{ ref('stg_esp__campaigns') }}
),
{%- if incremental %}

reread as (
    {%- set since -%}
    least({{ incremental_window_start() }}, coalesce(
        (select cast({{ dbt.dateadd('day', 1, 'max(night)') }} as date) from {{ ref('int_customer__reattribution_log') }}
         where model = '{{ this.identifier }}' and night <= {{ as_of_date() }}),
        cast('1900-01-01' as date)))
    {%- endset %}
    select customer_id from {{ ref('fct_message_events') }}
    where event_type = 'sent' and event_date >= {{ since }} and customer_id is not null
    union
    select customer_id from {{ ref('fct_web_sessions') }}
    where utm_source is not null and session_date >= {{ since }} and customer_id is not null
    union
    {{ identity_changed_customers('cast(null as date)') }}
    union
    {%- if this_has_column('first_touch_campaign_id') %}
    select t.customer_id from {{ this }} t
    left join first_purchase p on p.customer_id = t.customer_id
    left join campaigns c on c.campaign_id = t.first_touch_campaign_id
    where p.first_ordered_at is distinct from t.first_ordered_at
       or p.first_order_channel is distinct from t.first_order_channel
       or (t.first_touch_campaign_id is not null
           and coalesce(c.campaign_name, t.first_touch_campaign_id) <> t.first_touch_campaign)
       or cast(t.first_touched_at as date) > {{ as_of_date() }}
    {%- else %}
    -- a table built before the campaign id was kept (a whole table each night): re-read everyone once
    select customer_id from {{ this }}
    {%- endif %}
),
{%- endif %}

touches as (
    select
        e.customer_id,
        e.occurred_at as touched_at,
        e.channel as touch_channel,
        e.campaign_id as touch_campaign_id,
        coalesce(c.campaign_name, e.campaign_id) as touch_campaign
    from {{ ref('fct_message_events') }} e
    left join campaigns c on c.campaign_id = e.campaign_id
    where e.customer_id is not null and e.event_type = 'sent' and e.event_date <= {{ as_of_date() }}
    {%- if incremental %}
      and e.customer_id in (select customer_id from reread)
    {%- endif %}

    union all

    select
        customer_id,
        session_start as touched_at,
        {{ dbt.concat(["'web_'", "coalesce(utm_medium, 'referral')"]) }} as touch_channel,
        cast(null as {{ dbt.type_string() }}) as touch_campaign_id,
        coalesce(utm_campaign, utm_source) as touch_campaign
    from {{ ref('fct_web_sessions') }}
    where customer_id is not null and utm_source is not null and session_date <= {{ as_of_date() }}
    {%- if incremental %}
      and customer_id in (select customer_id from reread)
    {%- endif %}
),

first_touch as (
    select customer_id, touched_at, touch_channel, touch_campaign_id, touch_campaign
    from (
        select
            *,
            row_number() over (partition by customer_id order by touched_at, touch_channel, touch_campaign) as rn
        from touches
    ) ranked
    where rn = 1
)

select
    t.customer_id,
    t.touched_at as first_touched_at,
    t.touch_channel as first_touch_channel,
    coalesce(t.touch_campaign, '(none)') as first_touch_campaign,
    t.touch_campaign_id as first_touch_campaign_id,
    p.first_ordered_at,
    p.first_order_channel,
    case when p.first_ordered_at >= t.touched_at
         then cast({{ dbt.datediff('cast(t.touched_at as date)', 'p.first_order_date', 'day') }} as integer)
    end as days_to_first_order,
    p.first_ordered_at is not null and p.first_ordered_at < t.touched_at as bought_before_first_touch
from first_touch t
left join first_purchase p on p.customer_id = t.customer_id
{%- if incremental %}

union all

select
    r.customer_id,
    cast(null as {{ dbt.type_timestamp() }}) as first_touched_at,
    cast(null as {{ dbt.type_string() }}) as first_touch_channel,
    cast(null as {{ dbt.type_string() }}) as first_touch_campaign,
    cast(null as {{ dbt.type_string() }}) as first_touch_campaign_id,
    cast(null as {{ dbt.type_timestamp() }}) as first_ordered_at,
    cast(null as {{ dbt.type_string() }}) as first_order_channel,
    cast(null as integer) as days_to_first_order,
    cast(null as boolean) as bought_before_first_touch
from reread r
where not exists (select 1 from first_touch t where t.customer_id = r.customer_id)
{%- endif %}
