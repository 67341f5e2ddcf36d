-- The channels of the datamart, from the `channels` seed.
select
    cast(channel as {{ dbt.type_string() }}) as channel,
    cast(channel_kind as {{ dbt.type_string() }}) as channel_kind,
    cast(description as {{ dbt.type_string() }}) as description
from {{ ref('channels') }}
