-- One row per order. Orders are delta batches (orders placed that day); a re-sent order keeps
-- the version from the latest batch.
with source as (
    select * from {{ source('raw', 'orders') }}
),

deduped as (
    {{ latest_per_key('source', ['order_id']) }}
)

select
    order_id,
    customer_id,
    channel                             as channel_id,
    ordered_at,
    cast(ordered_at as date)            as order_date,
    lower(status)                       as status,
    upper(currency)                     as currency,
    cast(subtotal as double)            as subtotal,
    cast(discount_total as double)      as discount_total,
    cast(shipping_fee as double)        as shipping_fee,
    cast(total as double)               as total,
    payment_method,
    _batch_date                         as batch_date,
    _batch_id                           as batch_id,
    _loaded_at                          as loaded_at
from deduped
