-- The current warehouse master data: latest version of each warehouse.
with source as (
    select * from {{ source('raw', 'warehouses') }}
),

deduped as (
    {{ latest_per_key('source', ['warehouse_id']) }}
)

select
    warehouse_id,
    name                                as warehouse_name,
    region,
    cast(lead_time_days as integer)     as lead_time_days,
    cast(order_cost as double)          as order_cost,
    cast(holding_cost_rate as double)   as holding_cost_rate,
    _batch_date                         as last_seen_date,
    _loaded_at                          as loaded_at
from deduped
