with versions as (
    select * from {{ from_night(source('raw', 'esp__campaigns')) }}
    qualify {{ latest_version('campaign_id') }}
)

select
    trim(campaign_id) as campaign_id,
    {{ clean_text('name') }} as campaign_name,
    channel,
    objective,
    sent_at,
    cast(sent_at as date) as sent_date,
    {{ clean_text('offer_code') }} as offer_code
from versions
