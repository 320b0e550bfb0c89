-- Replenishment orders: one row per po_id (latest batch's version).
with source as (
    select * from {{ source('raw', 'purchase_orders') }}
),

deduped as (
    {{ latest_per_key('source', ['po_id']) }}
)

select
    po_id,
    product_id,
    warehouse_id,
    cast(quantity as integer)   as quantity,
    cast(unit_cost as double)   as unit_cost,
    ordered_on,
    expected_on,
    _batch_date                 as batch_date,
    _loaded_at                  as loaded_at
from deduped
