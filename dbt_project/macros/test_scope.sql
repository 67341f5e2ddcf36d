{#- Scope of the data tests on the large incremental tables.

    A model whose config has `meta: {test_window_column: <date column>}` has its row-level tests
    (not_null, unique, accepted_values, unique_combination, between) run on the rows of the
    night's window only (`<date column> >= incremental_window_start()`) when
    whole_table_tests() is false; the orchestrator sets it so on ordinary nights. On whole-scope
    nights (full refresh, first build, Sundays, replays, missed nights) and in a hand-run
    `dbt build` (the default, true) they test the whole table.

    Why a window is enough there: an incremental night writes only the window's rows and older
    rows it replaces by their key (delete+insert), so a row-level fault or a duplicate key can only
    come in with tonight's rows. Relationships tests are never windowed: the customer dimension
    changes under old facts too (merges, erasure).

    Overrides dbt's get_where_subquery, through which every test's `where` config goes. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set column = test_window_column() -%}
    {%- if column and not whole_table_tests() -%}
        {%- set window = column ~ ' >= ' ~ incremental_window_start() -%}
        {%- set where = '(' ~ where ~ ') and ' ~ window if where else window -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The date column of the tested model's window, when the running test is a row-level one. -#}
{% macro test_window_column() -%}
    {%- set windowed = ['not_null', 'unique', 'accepted_values', 'unique_combination', 'between'] -%}
    {%- set test_name = (model.get('test_metadata') or {}).get('name') -%}
    {%- set attached = model.get('attached_node') -%}
    {%- if not execute or test_name not in windowed or not attached or attached not in graph.nodes -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(graph.nodes[attached].config.meta.get('test_window_column')) }}
{%- endmacro %}

{#- var whole_table_tests when given, else DATAMART_DBT_WHOLE_TABLE_TESTS (set by the orchestrator,
    read at run time like the night, see night_date()), else true. -#}
{% macro whole_table_tests() -%}
    {%- set given = var('whole_table_tests', none) -%}
    {%- if given is none -%}
        {%- set given = env_var('DATAMART_DBT_WHOLE_TABLE_TESTS', 'true') if execute else 'true' -%}
    {%- endif -%}
    {{ return(given | string | lower not in ['false', '0', 'no']) }}
{%- endmacro %}
