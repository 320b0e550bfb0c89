-- Items added to carts. The feed has no key of its own; an event is identified by its cart,
-- product and time, and a re-sent event keeps the latest batch's version (its status may change).
with source as (
    select * from {{ source('raw', 'cart_events') }}
),

deduped as (
    {{ latest_per_key('source', ['cart_id', 'product_id', 'added_at']) }}
)

select
    md5(concat_ws('|', cart_id, product_id, cast(added_at as varchar)))    as cart_event_id,
    cart_id,
    session_id,
    product_id,
    cast(quantity as integer)       as quantity,
    cast(unit_price as double)      as unit_price,
    added_at,
    cast(added_at as date)          as added_date,
    lower(status)                   as status,
    _batch_date                     as batch_date,
    _loaded_at                      as loaded_at
from deduped
