{#- What differs between the engines (DuckDB, Spark) lives here, dispatched on the adapter:
    `default__` is DuckDB, `spark__` is Spark. The models call only these names. -#}

{#- Incremental models rebuild a night's window with delete+insert on DuckDB. Spark's Parquet
    tables (no Delta/Iceberg offline) offer only append and insert_overwrite, neither of which
    replaces rows by key, so there the same model is a table, rebuilt whole each night. -#}
{% macro incremental_materialization() -%}
    {{ return(adapter.dispatch('incremental_materialization')()) }}
{%- endmacro %}
{% macro default__incremental_materialization() -%}{{ return('incremental') }}{%- endmacro %}
{% macro spark__incremental_materialization() -%}{{ return('table') }}{%- endmacro %}

{#- Every match of a regular expression replaced (DuckDB replaces the first one without 'g'). -#}
{% macro regexp_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all')(expr, pattern, replacement)) }}
{%- endmacro %}
{% macro default__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ pattern }}, {{ replacement }}, 'g')
{%- endmacro %}
{% macro spark__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, {{ spark_regex_literal(pattern) }}, {{ replacement }})
{%- endmacro %}

{#- A regular expression's SQL literal ('\bav\.') for Spark, whose string literals treat a
    backslash as an escape (DuckDB's keep it as a character): each backslash doubled. The models
    write patterns once, as DuckDB reads them, and pass them through the macros below. -#}
{% macro spark_regex_literal(pattern) -%}
    {{ return(pattern | replace('\\', '\\\\')) }}
{%- endmacro %}

{#- True when a regular expression matches somewhere in the text. -#}
{% macro regexp_contains(expr, pattern) -%}
    {{ return(adapter.dispatch('regexp_contains')(expr, pattern)) }}
{%- endmacro %}
{% macro default__regexp_contains(expr, pattern) -%}
    regexp_matches({{ expr }}, {{ pattern }})
{%- endmacro %}
{% macro spark__regexp_contains(expr, pattern) -%}
    ({{ expr }} rlike {{ spark_regex_literal(pattern) }})
{%- endmacro %}

{#- A JSON value at a path ('$.city', '$[0].sku') as text; null when absent. -#}
{% macro json_text(expr, path) -%}
    {{ return(adapter.dispatch('json_text')(expr, path)) }}
{%- endmacro %}
{% macro default__json_text(expr, path) -%}
    json_extract_string({{ expr }}, {{ path }})
{%- endmacro %}
{% macro spark__json_text(expr, path) -%}
    get_json_object({{ expr }}, {{ path }})
{%- endmacro %}

{#- One row per index 0 .. n-1 of a row's JSON array (as a select-list item named `alias`). -#}
{% macro explode_indexes(n, alias) -%}
    {{ return(adapter.dispatch('explode_indexes')(n, alias)) }}
{%- endmacro %}
{% macro default__explode_indexes(n, alias) -%}
    unnest(range(cast({{ n }} as bigint))) as {{ alias }}
{%- endmacro %}
{% macro spark__explode_indexes(n, alias) -%}
    {#- sequence(0, -1) counts down: slice keeps the first n elements, none for an empty array -#}
    explode(slice(sequence(0, {{ n }}), 1, {{ n }})) as {{ alias }}
{%- endmacro %}

{#- count(distinct x) over (partition by ...): Spark has no DISTINCT in window functions. -#}
{% macro count_distinct_over(expr, partition_by) -%}
    {{ return(adapter.dispatch('count_distinct_over')(expr, partition_by)) }}
{%- endmacro %}
{% macro default__count_distinct_over(expr, partition_by) -%}
    count(distinct {{ expr }}) over (partition by {{ partition_by }})
{%- endmacro %}
{% macro spark__count_distinct_over(expr, partition_by) -%}
    size(collect_set({{ expr }}) over (partition by {{ partition_by }}))
{%- endmacro %}

{#- The first non-null value of a window (the window follows: `... over w`). -#}
{% macro first_value_ignore_nulls(expr) -%}
    {{ return(adapter.dispatch('first_value_ignore_nulls')(expr)) }}
{%- endmacro %}
{% macro default__first_value_ignore_nulls(expr) -%}
    first_value({{ expr }} ignore nulls)
{%- endmacro %}
{% macro spark__first_value_ignore_nulls(expr) -%}
    first_value({{ expr }}, true)
{%- endmacro %}

{#- History tables (a snapshot per night: fct_customer_rfm, fct_rfm_segment_transitions) stay
    incremental on both engines, since their earlier nights cannot be rebuilt from staging. A
    night replaces its own snapshot: delete+insert on the snapshot date on DuckDB, the snapshot's
    partition overwritten on Spark (insert_overwrite, dynamic partition overwrite: the session's
    default, orchestration/engines/spark.py). -#}
{% macro history_strategy() -%}
    {{ return(adapter.dispatch('history_strategy')()) }}
{%- endmacro %}
{% macro default__history_strategy() -%}{{ return('delete+insert') }}{%- endmacro %}
{% macro spark__history_strategy() -%}{{ return('insert_overwrite') }}{%- endmacro %}

{% macro history_partition_by(column) -%}
    {{ return(adapter.dispatch('history_partition_by')(column)) }}
{%- endmacro %}
{% macro default__history_partition_by(column) -%}{{ return(none) }}{%- endmacro %}
{% macro spark__history_partition_by(column) -%}{{ return([column]) }}{%- endmacro %}

{#- Seeds on Spark: dbt-spark's session method pastes seed values into the INSERT unquoted as
    given, so a quote in a seed's text (channels.csv: "the customer's address") broke the load.
    The values are written here as escaped literals instead. Overrides dbt-spark 1.11's macro. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- set type = column_override.get(agate_table.column_names[loop.index0],
                                                       adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ spark_literal(value) }} as {{ type }}){{ ',' if not loop.last }}
                {%- endfor -%}){{ ',' if not loop.last }}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{% macro spark_literal(value) -%}
    {%- if value is none -%}null
    {%- else -%}'{{ value | string | replace('\\', '\\\\') | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
