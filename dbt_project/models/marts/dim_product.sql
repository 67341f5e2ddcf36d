-- The product catalogue as of the night (latest version per sku).
select sku, product_name, category, brand, unit_cost
from {{ ref('stg_reference__products') }}
