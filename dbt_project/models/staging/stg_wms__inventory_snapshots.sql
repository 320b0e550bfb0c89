-- End-of-day stock: one row per snapshot_date x warehouse x product.
with source as (
    select * from {{ source('raw', 'inventory_snapshot') }}
),

deduped as (
    {{ latest_per_key('source', ['snapshot_date', 'warehouse_id', 'product_id']) }}
)

select
    snapshot_date,
    warehouse_id,
    product_id,
    cast(on_hand as integer)        as on_hand,
    cast(on_order as integer)       as on_order,
    cast(received_today as integer) as received_today,
    _batch_date                     as batch_date,
    _loaded_at                      as loaded_at
from deduped
