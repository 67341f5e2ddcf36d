with versions as (
    select * from {{ from_night(source('raw', 'partners__email_appends')) }}
    qualify {{ latest_version('crm_id', 'appended_at desc, _file_date desc, _line desc') }}
)

select
    trim(crm_id) as crm_id,
    {{ clean_email('appended_email') }} as appended_email,
    {{ email_key('appended_email') }} as appended_email_key,
    opt_in,
    appended_at,
    _file_date as file_date,
    _loaded_at as loaded_at
from versions
