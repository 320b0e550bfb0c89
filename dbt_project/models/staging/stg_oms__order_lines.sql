-- One row per order line (order_id, line_number); a re-sent line keeps the latest batch's version.
with source as (
    select * from {{ source('raw', 'order_lines') }}
),

deduped as (
    {{ latest_per_key('source', ['order_id', 'line_number']) }}
)

select
    order_id,
    cast(line_number as integer)    as line_number,
    product_id,
    cast(quantity as integer)       as quantity,
    cast(unit_price as double)      as unit_price,
    cast(discount as double)        as discount,
    cast(line_total as double)      as line_total,
    nullif(trim(promo_id), '')      as promo_id,
    _batch_date                     as batch_date,
    _loaded_at                      as loaded_at
from deduped
