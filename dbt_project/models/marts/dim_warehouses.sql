-- One row per warehouse (latest master data).
select
    warehouse_id,
    warehouse_name  as name,
    region,
    lead_time_days,
    order_cost,
    holding_cost_rate
from {{ ref('stg_wms__warehouses') }}
