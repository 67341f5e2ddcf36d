with versions as (
    select * from {{ from_night(source('raw', 'forms__signups')) }}
    qualify {{ latest_version('signup_id') }}
)

select
    trim(signup_id) as signup_id,
    form_type,
    submitted_at,
    cast(submitted_at as date) as submitted_date,
    {{ clean_email('email') }} as email,
    {{ email_key('email') }} as email_key,
    {{ clean_text('first_name') }} as first_name,
    {{ clean_text('last_name') }} as last_name,
    {{ name_key('first_name') }} as first_name_key,
    {{ name_key('last_name') }} as last_name_key,
    {{ postcode_key('postcode') }} as postcode,
    opt_in,
    {{ clean_text('interests') }} as interests,
    case when nps between 0 and 10 then cast(nps as integer) end as nps,
    _file_date as file_date,
    _loaded_at as loaded_at
from versions
