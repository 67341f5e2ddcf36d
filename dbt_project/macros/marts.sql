{#- Helpers of the marts layer. Engine-specific SQL lives in dispatched macros only. -#}

{#- First night rebuilt by an incremental fact: as_of − (incremental_window_days − 1). -#}
{% macro incremental_window_start() -%}
    {{ dbt.dateadd('day', -(var('incremental_window_days') | int - 1), as_of_date()) }}
{%- endmacro %}

{#- Continuous percentile of a column inside a GROUP BY. -#}
{% macro percentile(col, fraction) -%}
    {{ return(adapter.dispatch('percentile')(col, fraction)) }}
{%- endmacro %}
{% macro default__percentile(col, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ col }})
{%- endmacro %}
{% macro spark__percentile(col, fraction) -%}
    percentile({{ col }}, {{ fraction }})
{%- endmacro %}

{#- Seconds between two timestamps (sessionisation gaps). -#}
{% macro seconds_between(start_ts, end_ts) -%}
    {{ dbt.datediff(start_ts, end_ts, 'second') }}
{%- endmacro %}

{#- Whole years from a date to another (age at the night). -#}
{% macro years_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('years_between')(start_date, end_date)) }}
{%- endmacro %}
{% macro default__years_between(start_date, end_date) -%}
    cast(floor(months_between({{ end_date }}, {{ start_date }}) / 12) as integer)
{%- endmacro %}
{% macro duckdb__years_between(start_date, end_date) -%}
    date_sub('year', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{#- Split a delimited string into rows: (the relation's columns..., item) via a lateral unnest. -#}
{% macro split_to_rows(col, delimiter) -%}
    {{ return(adapter.dispatch('split_to_rows')(col, delimiter)) }}
{%- endmacro %}
{% macro default__split_to_rows(col, delimiter) -%}
    unnest(string_split({{ col }}, '{{ delimiter }}'))
{%- endmacro %}
{% macro spark__split_to_rows(col, delimiter) -%}
    explode(split({{ col }}, '{{ delimiter }}'))
{%- endmacro %}

{#- ISO day of week, 1 = Monday … 7 = Sunday. -#}
{% macro iso_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(date_expr)) }}
{%- endmacro %}
{% macro default__iso_day_of_week(date_expr) -%}
    extract(isodow from {{ date_expr }})
{%- endmacro %}
{% macro spark__iso_day_of_week(date_expr) -%}
    extract(dayofweek_iso from {{ date_expr }})
{%- endmacro %}

{#- First day an incremental model re-reads: the start of the window, or the day after the
    latest row it holds when that is earlier (catching up after a replay of an earlier night or
    after missed nights). -#}
{% macro incremental_since(this_date_column) -%}
    least(
        {{ incremental_window_start() }},
        (select cast({{ dbt.dateadd('day', 1, 'max(' ~ this_date_column ~ ')') }} as date) from {{ this }})
    )
{%- endmacro %}

{#- Where an incremental staging model stands, read once before its statement runs: `since`, the
    first file date it re-reads (incremental_since()), and `loaded`, the latest load it holds
    (NULL when empty), as SQL literals. As literals, the filters on the raw table are plain
    comparisons the engine prunes by zone maps; as scalar subqueries in an OR they made DuckDB
    cross-join every raw row with them and hash the whole table (stg_esp__events at 200k: 5.3 s
    for a night that read nothing). Rows dated after the night are left out, as the pre_hook
    forget_rows_after_night() deletes them before the statement. -#}
{% macro staging_high_water(this_date_column='file_date') -%}
    {%- if not execute -%}
        {{ return({'since': as_of_date(), 'loaded': 'cast(null as timestamp)'}) }}
    {%- endif -%}
    {%- set row = run_query(
        "select cast(least(" ~ incremental_window_start() ~ ", cast("
        ~ dbt.dateadd('day', 1, 'max(' ~ this_date_column ~ ')') ~ " as date)) as " ~ dbt.type_string() ~ "), "
        ~ "cast(max(loaded_at) as " ~ dbt.type_string() ~ ") from " ~ this
        ~ " where " ~ this_date_column ~ " <= " ~ as_of_date()).rows[0] -%}
    {{ return({'since': "cast('" ~ row[0] ~ "' as date)",
               'loaded': "cast('" ~ row[1] ~ "' as timestamp)" if row[1] is not none else 'cast(null as timestamp)'}) }}
{%- endmacro %}

{#- Incremental staging of the large silos (events, receipts, orders).
    A night re-reads only the keys that changed: those with a version in a file dated since
    staging_high_water().since, in a file loaded since the last build (a late or reloaded file),
    or in a file dated after the night (a replay of an earlier night restores the older version).
    Every version of those keys up to the night is then re-read, so the latest one wins as in a
    full build. Use inside a `where` on the source relation, after from_night(). -#}
{% macro changed_keys_filter(key, relation, this_date_column='file_date') -%}
    {%- if is_incremental() and this_has_column('loaded_at') %}
    {%- set hw = staging_high_water(this_date_column) %}
    and {{ key }} in (
        select {{ key }} from {{ relation }}
        where _file_date >= {{ hw.since }}
           or _file_date > {{ as_of_date() }}
           or _loaded_at > {{ hw.loaded }}
    )
    {%- endif %}
{%- endmacro %}

{#- The rows a night reads when the latest file wins (latest_versions(), one version per key):
    the same latest versions as changed_keys_filter(), reading less. A key with a version dated
    since `since` needs no older version, which would lose to it; only the keys with a version
    outside the window that is new tonight (a late or reloaded file dated before it, a file dated
    after the night) are re-read whole. So an ordinary night reads its window, pruned by file date,
    not every row of the keys it touched. -#}
{% macro changed_rows(relation, key, this_date_column='file_date') -%}
    {%- if is_incremental() and this_has_column('loaded_at') -%}
    {%- set hw = staging_high_water(this_date_column) -%}
    select * from {{ from_night(relation) }} and _file_date >= {{ hw.since }}
    union all
    select * from {{ from_night(relation) }} and _file_date < {{ hw.since }}
    and {{ key }} in (
        select {{ key }} from {{ relation }}
        where (_file_date < {{ hw.since }} and _loaded_at > {{ hw.loaded }})
           or _file_date > {{ as_of_date() }}
    )
    {%- else -%}
    select * from {{ from_night(relation) }}
    {%- endif -%}
{%- endmacro %}

{#- pre_hook of an incremental model: a replay of an earlier night forgets the rows dated after
    it (they come back when the later nights are built again). -#}
{% macro forget_rows_after_night(date_column='file_date') -%}
    {%- if is_incremental() and this_has_column(date_column) -%}
    delete from {{ this }} where {{ date_column }} > {{ as_of_date() }}
    {%- endif -%}
{%- endmacro %}

{#- The model's existing table has this column (a table built before the column existed is
    re-read whole once, then incremental). Only meaningful at run time. -#}
{% macro this_has_column(column) -%}
    {%- if not execute -%}{{ return(true) }}{%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return(column | lower in names) }}
{%- endmacro %}

{#- Order-independent 64-bit checksum of a set of strings, inside a GROUP BY. -#}
{% macro set_checksum(expr) -%}
    {{ return(adapter.dispatch('set_checksum')(expr)) }}
{%- endmacro %}
{% macro default__set_checksum(expr) -%}
    bit_xor(cast(hash({{ expr }}) >> 1 as bigint))
{%- endmacro %}
{% macro spark__set_checksum(expr) -%}
    bit_xor(xxhash64({{ expr }}))
{%- endmacro %}

{#- Customers whose record set changed since the incremental model was last built: ids of
    int_customer__record_sets changed on or after the model's last night (a re-run of that night
    re-reads that night's changes again). The model's last night is the latest one it logged in
    int_customer__reattribution_log (not after tonight: a replay compares with what was built
    before it), else the latest date it holds. A full build of the record sets dates every id the
    night before, so the next night after a full build of everything re-reads nothing, while a
    model older than the record sets re-reads all. -#}
{% macro identity_changed_customers(this_date_column) -%}
    select customer_id from {{ ref('int_customer__record_sets') }}
    where changed_on >= coalesce(
        (select max(night) from {{ ref('int_customer__reattribution_log') }}
         where model = '{{ this.identifier }}' and night <= {{ as_of_date() }}),
        (select max({{ this_date_column }}) from {{ this }}),
        cast('1900-01-01' as date))
{%- endmacro %}

{#- Post-hook of the models that call identity_changed_customers(): log tonight's build, and
    optionally the latest load the build saw (SQL of a timestamp, for reattribution_previous_build). -#}
{% macro log_reattribution_build(loaded_until=none) -%}
    insert into {{ ref('int_customer__reattribution_log') }} (model, night, built_at, loaded_until)
    select '{{ this.identifier }}', {{ as_of_date() }}, {{ identity_stamp() }},
           {{ loaded_until if loaded_until else 'cast(null as ' ~ dbt.type_timestamp() ~ ')' }}
{%- endmacro %}

{#- The latest load of the staging rows int_customer__golden_record re-reads by their load (CRM
    members, forms, partner appends, e-mail events), logged with its build. -#}
{% macro golden_record_loaded_until() -%}
    (select max(t) from (
        select max(loaded_at) as t from {{ ref('stg_crm__customers') }}
        union all select max(loaded_at) from {{ ref('stg_forms__signups') }}
        union all select max(loaded_at) from {{ ref('stg_partners__email_appends') }}
        union all select max(loaded_at) from {{ ref('stg_esp__events') }}) loads)
{%- endmacro %}

{#- The model's latest build in int_customer__reattribution_log as dict(night, changed_at = its
    built_at, loaded_until) of SQL literals (the keys of identity_previous_build(), so that
    identity_new_row() reads it), or none when the night must re-read everything: no build logged with its loads, a replay
    of an earlier night, or a build older than the identity change log keeps (it is pruned after
    35 days). Only meaningful at run time of an incremental build. -#}
{% macro reattribution_previous_build() -%}
    {%- if not execute or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set q -%}
        select cast(night as {{ dbt.type_string() }}), cast(built_at as {{ dbt.type_string() }}), cast(loaded_until as {{ dbt.type_string() }}),
               built_at < {{ dbt.dateadd('day', -30, identity_stamp()) }}
        from {{ ref('int_customer__reattribution_log') }}
        where model = '{{ this.identifier }}'
        order by built_at desc
        limit 1
    {%- endset -%}
    {%- set rows = run_query(q).rows -%}
    {%- if rows | length == 0 or rows[0][2] is none or rows[0][3] -%}{{ return(none) }}{%- endif -%}
    {%- if rows[0][0] > night_date() -%}{{ return(none) }}{%- endif -%}
    {{ return({'night': "cast('" ~ rows[0][0] ~ "' as date)",
               'changed_at': "cast('" ~ rows[0][1] ~ "' as timestamp)",
               'loaded_until': "cast('" ~ rows[0][2] ~ "' as timestamp)"}) }}
{%- endmacro %}

{#- post_hook of an incremental model whose re-read customers can get a placeholder row (the
    condition holds for it) that replaces their old row: drop the placeholders. Only incremental
    builds write placeholders, so a full build (and every build on Spark, whose Parquet tables
    take no DELETE) has nothing to drop. -#}
{% macro drop_placeholders(condition) -%}
    {%- if is_incremental() -%}
    delete from {{ this }} where {{ condition }}
    {%- endif -%}
{%- endmacro %}
