-- One row per order, with its line count and units.
with lines as (
    select
        order_id,
        count(*)        as line_count,
        cast(sum(quantity) as bigint) as units
    from {{ ref('stg_oms__order_lines') }}
    group by order_id
)

select
    orders.order_id,
    orders.customer_id,
    orders.channel_id                   as channel,
    orders.ordered_at,
    orders.order_date,
    orders.status,
    orders.currency,
    orders.subtotal,
    orders.discount_total,
    orders.shipping_fee,
    orders.total,
    orders.payment_method,
    coalesce(lines.line_count, 0)       as line_count,
    coalesce(lines.units, 0)            as units
from {{ ref('stg_oms__orders') }} as orders
left join lines using (order_id)
