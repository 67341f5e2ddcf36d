-- The stores as of the night (latest version per store_id).
select store_id, store_name, city, postcode, region, opened_at
from {{ ref('stg_reference__stores') }}
