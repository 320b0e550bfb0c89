{{ config(severity='warn') }}
-- An order's total should equal subtotal - discount_total + shipping_fee (to the cent).
-- A warning: the figures come from the OMS as they are, the marts do not recompute them.
select order_id, subtotal, discount_total, shipping_fee, total
from {{ ref('fct_orders') }}
where abs(subtotal - discount_total + shipping_fee - total) > 0.011
