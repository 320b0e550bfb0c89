-- One row per order line, with the order's date, channel and customer.
select
    order_id,
    line_number,
    order_date,
    channel_id          as channel,
    customer_id,
    product_id,
    quantity,
    unit_price,
    discount,
    line_total,
    paid_unit_price,
    promo_id,
    is_promo
from {{ ref('int_order_lines_enriched') }}
