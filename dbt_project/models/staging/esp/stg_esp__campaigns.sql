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
    {{ clean_text('offer_code') }} as offer_code,
    -- a share outside 0-1 parses but cannot be used: null (the contract keeps the row)
    case when cast(holdout_share as double) between 0 and 1 then cast(holdout_share as double) end as holdout_share
from versions
