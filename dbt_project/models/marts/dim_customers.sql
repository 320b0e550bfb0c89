-- One row per customer: the current CDP profile plus order history. Customers who ordered but
-- have no CDP profile (yet) are kept with empty profile columns (has_profile = false), so every
-- order's customer is here.
with profiles as (
    select * from {{ ref('stg_cdp__customers') }}
),

order_history as (
    select
        customer_id,
        min(order_date)     as first_order_date,
        max(order_date)     as last_order_date,
        count(*)            as order_count,
        round(sum(total), 2) as lifetime_revenue
    from {{ ref('stg_oms__orders') }}
    group by customer_id
)

select
    coalesce(profiles.customer_id, order_history.customer_id) as customer_id,
    profiles.customer_id is not null                as has_profile,
    profiles.email_sha256,
    profiles.segment,
    profiles.region,
    profiles.signup_date,
    profiles.marketing_opt_in,
    profiles.preferred_channel_id                   as preferred_channel,
    profiles.updated_at                             as profile_updated_at,
    order_history.first_order_date,
    order_history.last_order_date,
    coalesce(order_history.order_count, 0)          as order_count,
    coalesce(order_history.lifetime_revenue, 0)     as lifetime_revenue
from profiles
full outer join order_history
    on profiles.customer_id = order_history.customer_id
