{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- Schemas named by layer or department (traffic, environment, ...), not prefixed by the target's. -#}
    {{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}
