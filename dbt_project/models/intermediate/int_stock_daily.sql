-- End-of-day stock per product x day, summed over warehouses (demand is served from pooled stock).
select
    snapshot_date                   as date_day,
    product_id,
    cast(sum(on_hand) as bigint)        as on_hand,
    cast(sum(on_order) as bigint)       as on_order,
    cast(sum(received_today) as bigint) as received_today,
    count(*)                        as warehouses_reporting,
    count(*) filter (where on_hand = 0) as warehouses_out_of_stock
from {{ ref('stg_wms__inventory_snapshots') }}
group by snapshot_date, product_id
