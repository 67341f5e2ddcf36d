with versions as (
    select * from {{ from_night(source('raw', 'esp__events')) }}
    qualify {{ latest_version('event_id') }}
)

select
    trim(event_id) as event_id,
    {{ clean_text('campaign_id') }} as campaign_id,
    recipient as recipient_raw,
    case when recipient like '%@%' then 'email' else 'phone' end as recipient_kind,
    case when recipient like '%@%' then {{ email_key('recipient') }} end as recipient_email_key,
    case when recipient not like '%@%' then {{ phone_e164('recipient') }} end as recipient_phone_e164,
    event_type,
    occurred_at,
    cast(occurred_at as date) as event_date,
    {{ clean_text('url') }} as url
from versions
