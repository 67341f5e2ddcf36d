with versions as (
    select * from {{ from_night(source('raw', 'callcenter__calls')) }}
    qualify {{ latest_version('call_id') }}
)

select
    trim(call_id) as call_id,
    called_at,
    cast(called_at as date) as call_date,
    caller_phone as caller_phone_raw,
    {{ phone_e164('caller_phone') }} as caller_phone_e164,
    {{ clean_text('crm_id') }} as crm_id,
    reason,
    outcome,
    {{ clean_text('order_id') }} as order_id,
    duration_s
from versions
