with versions as (
    select * from {{ from_night(source('raw', 'reference__stores')) }}
    qualify {{ latest_version('store_id') }}
)

select
    trim(store_id) as store_id,
    {{ clean_text('name') }} as store_name,
    {{ clean_text('city') }} as city,
    {{ postcode_key('postcode') }} as postcode,
    {{ clean_text('region') }} as region,
    opened_at
from versions
