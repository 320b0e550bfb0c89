-- The pricing engine's effective price per product x channel x day. `price` is what a customer
-- paid that day (after any promotion), `regular_price` the price before promotions.
with source as (
    select * from {{ source('raw', 'prices') }}
),

deduped as (
    {{ latest_per_key('source', ['product_id', 'channel', 'price_date']) }}
)

select
    product_id,
    channel                         as channel_id,
    price_date,
    cast(regular_price as double)   as regular_price,
    cast(price as double)           as price,
    nullif(trim(promo_id), '')      as promo_id,
    upper(currency)                 as currency,
    _batch_date                     as batch_date,
    _loaded_at                      as loaded_at
from deduped
