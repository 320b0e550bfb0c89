-- Sales per product x channel x day, only where something sold (the marts zero-fill the grid).
select
    order_date                                          as date_day,
    product_id,
    channel_id,
    cast(sum(quantity) as bigint)                       as units,
    round(sum(line_total), 2)                           as revenue,
    round(sum(gross_amount), 2)                         as gross_revenue,
    round(sum(discount), 2)                             as discount_amount,
    count(distinct order_id)                            as orders,
    count(*)                                            as order_lines,
    sum(line_total) / nullif(sum(quantity), 0)          as avg_paid_unit_price,
    sum(gross_amount) / nullif(sum(quantity), 0)        as avg_regular_unit_price,
    max(promo_id)                                       as promo_id
from {{ ref('int_order_lines_enriched') }}
group by order_date, product_id, channel_id
