with versions as (
    select * from {{ from_night(source('raw', 'web__events')) }}
    qualify {{ latest_version('event_id') }}
)

select
    trim(event_id) as event_id,
    {{ clean_text('anonymous_id') }} as anonymous_id,
    {{ clean_text('account_id') }} as account_id,
    occurred_at,
    cast(occurred_at as date) as event_date,
    event_type,
    {{ clean_text('page_path') }} as page_path,
    lower({{ clean_text('utm_source') }}) as utm_source,
    lower({{ clean_text('utm_medium') }}) as utm_medium,
    {{ clean_text('utm_campaign') }} as utm_campaign,
    lower({{ clean_text('device') }}) as device
from versions
