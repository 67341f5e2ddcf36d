-- Tonight's decision for every customer and contact channel (email, sms, post): may they be
-- contacted, and if not, the first reason that excludes them, in this order: erased, objected,
-- no consent, no contact point, bounced (email/sms: a bounce within `bounce_lookback_days` and
-- no delivery since), opted out (an unsubscribe or complaint within that window), personal
-- pressure (messages in the last 7 / 30 days at the caps), household pressure (30 days).
with customers as (
    select customer_id, email, phone, address_line, postcode, consent_email, consent_sms, consent_post,
           is_erased, is_objected
    from {{ ref('dim_customer') }}
),

channels as (
    select 'email' as channel union all select 'sms' union all select 'post'
),

contacts as (
    select * from {{ ref('int_marketing__channel_contacts') }}
),

pressure as (
    select customer_id, sum(contacts_7d) as contacts_7d, sum(contacts_30d) as contacts_30d
    from contacts
    group by customer_id
),

households as (
    select h.customer_id, h.household_id,
           sum(coalesce(p.contacts_30d, 0)) over (partition by h.household_id) as household_contacts_30d
    from {{ ref('int_customer__households') }} h
    left join pressure p on p.customer_id = h.customer_id
),

grid as (
    select
        c.customer_id,
        ch.channel,
        c.is_erased,
        c.is_objected,
        case ch.channel when 'email' then c.consent_email when 'sms' then c.consent_sms else c.consent_post end
            as has_consent,
        case ch.channel when 'email' then c.email is not null when 'sms' then c.phone is not null
             else c.address_line is not null and c.postcode is not null end as has_contact_point,
        cc.last_bounce_date,
        cc.last_delivered_date,
        cc.last_opt_out_date,
        coalesce(p.contacts_7d, 0) as contacts_7d,
        coalesce(p.contacts_30d, 0) as contacts_30d,
        h.household_id,
        coalesce(h.household_contacts_30d, 0) as household_contacts_30d
    from customers c
    cross join channels ch
    left join contacts cc on cc.customer_id = c.customer_id and cc.channel = ch.channel
    left join pressure p on p.customer_id = c.customer_id
    left join households h on h.customer_id = c.customer_id
)

select
    customer_id,
    channel,
    {{ as_of_date() }} as audience_date,
    household_id,
    cast(contacts_7d as integer) as contacts_7d,
    cast(contacts_30d as integer) as contacts_30d,
    cast(household_contacts_30d as integer) as household_contacts_30d,
    case
        when is_erased then 'erased'
        when is_objected then 'objected'
        when not coalesce(has_consent, false) then 'no_consent'
        when not has_contact_point then 'no_contact_point'
        when last_bounce_date > {{ dbt.dateadd('day', -(var('bounce_lookback_days') | int), as_of_date()) }}
             and (last_delivered_date is null or last_delivered_date < last_bounce_date) then 'bounced'
        when last_opt_out_date > {{ dbt.dateadd('day', -(var('bounce_lookback_days') | int), as_of_date()) }}
            then 'opted_out'
        when contacts_7d >= {{ var('pressure_cap_7d') }} then 'pressure_cap_7d'
        when contacts_30d >= {{ var('pressure_cap_30d') }} then 'pressure_cap_30d'
        when household_contacts_30d >= {{ var('household_pressure_cap_30d') }} then 'household_pressure_cap_30d'
    end as exclusion_reason
from grid
