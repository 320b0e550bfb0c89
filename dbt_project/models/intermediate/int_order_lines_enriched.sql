-- Order lines with their order's date, channel and customer, and the paid price per unit.
-- Lines whose order header is missing (quarantined) are dropped: without a date and a channel
-- they cannot be placed on the sales grid.
select
    lines.order_id,
    lines.line_number,
    orders.order_date,
    orders.ordered_at,
    orders.channel_id,
    orders.customer_id,
    orders.status                                       as order_status,
    lines.product_id,
    lines.quantity,
    lines.unit_price,
    lines.discount,
    lines.line_total,
    lines.line_total / nullif(lines.quantity, 0)        as paid_unit_price,
    lines.unit_price * lines.quantity                   as gross_amount,
    lines.promo_id,
    lines.promo_id is not null or lines.discount > 0    as is_promo
from {{ ref('stg_oms__order_lines') }} as lines
inner join {{ ref('stg_oms__orders') }} as orders
    on lines.order_id = orders.order_id
