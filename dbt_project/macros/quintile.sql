{#- Quintile 1–5 (5 best) from the rank, so tied values always share a score: with 60 % of
    customers buying once, ntile() would split identical customers arbitrarily.
    `better` = 'asc' when a larger value is better, 'desc' when a smaller one is. -#}
{% macro quintile(col, better) -%}
    (1 + floor(5.0 * (rank() over (order by {{ col }} {{ 'asc' if better == 'asc' else 'desc' }}) - 1)
        / count(*) over ()))
{%- endmacro %}
