with versions as (
    select * from {{ from_night(source('raw', 'privacy__requests')) }}
    qualify {{ latest_version('request_id') }}
)

select
    trim(request_id) as request_id,
    requested_at,
    cast(requested_at as date) as request_date,
    request_type,
    {{ email_key('email') }} as email_key,
    {{ phone_e164('phone') }} as phone_e164,
    {{ clean_text('crm_id') }} as crm_id
from versions
