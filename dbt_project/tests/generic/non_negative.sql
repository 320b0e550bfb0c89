{# The column is >= 0 wherever it is not null. Returns the offending rows. #}
{% test non_negative(model, column_name) %}
select *
from {{ model }}
where {{ column_name }} < 0
{% endtest %}
