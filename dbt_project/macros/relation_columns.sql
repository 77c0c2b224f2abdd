{#- The columns of the relation a model, seed or snapshot just built, with the warehouse's types, as
    one JSON line in dbt's structured log (a post-hook, dbt_project.yml). dagster-dbt reads it as the
    node's column metadata ({"columns": {name: {"data_type": type}}}, the shape of dagster's own
    log_column_level_metadata), so the asset's column schema and its lineage schema facet carry real
    types for staging and intermediate models too, which declare none. The warehouse's own type names
    (dtype: varchar), not dbt's portable ones (data_type: character varying(256)). Renders no SQL. -#}
{% macro log_relation_columns() %}
  {%- if execute -%}
    {%- set columns = {} -%}
    {%- for column in adapter.get_columns_in_relation(this) -%}
      {%- do columns.update({column.name: {"data_type": column.dtype | lower}}) -%}
    {%- endfor -%}
    {%- do log(tojson({"columns": columns}), info=true) -%}
  {%- endif -%}
{% endmacro %}
