{#
    Keep one row per key: the one from the latest batch (then the latest load, then the last row
    of the file). Sources re-send rows (snapshots, changed profiles, a re-sent order), and the
    latest version wins.

    relation:  a relation or CTE name whose rows carry the raw metadata columns
    key:       list of column names (or expressions) that identify a row
    order_by:  optional extra ordering applied before the batch metadata, e.g. 'updated_at desc'
#}
{% macro latest_per_key(relation, key, order_by=none) -%}
select *
from {{ relation }}
qualify row_number() over (
    partition by {{ key | join(', ') }}
    order by {% if order_by %}{{ order_by }}, {% endif %}_batch_date desc, _loaded_at desc, _row_number desc
) = 1
{%- endmacro %}
