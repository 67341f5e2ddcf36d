with versions as (
    select * from {{ from_night(source('raw', 'reference__products')) }}
    qualify {{ latest_version('sku') }}
)

select
    trim(sku) as sku,
    {{ clean_text('name') }} as product_name,
    {{ clean_text('category') }} as category,
    {{ clean_text('brand') }} as brand,
    cast(unit_cost as decimal(18, 2)) as unit_cost
from versions
