{# The column lies in [min_value, max_value] wherever it is not null. Returns the offending rows. #}
{% test between(model, column_name, min_value, max_value) %}
select *
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
