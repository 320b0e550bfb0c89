-- One row per product ever seen in the catalog: its latest catalog row, content completeness,
-- and the first and last snapshot it appeared in.
with daily as (
    select * from {{ ref('int_products_daily') }}
),

seen as (
    select
        product_id,
        min(snapshot_date) as first_seen_date,
        max(snapshot_date) as last_seen_date
    from daily
    group by product_id
),

latest as (
    select *
    from daily
    qualify row_number() over (partition by product_id order by snapshot_date desc) = 1
)

select
    latest.product_id,
    latest.sku,
    latest.product_name             as name,
    latest.category,
    latest.brand,
    latest.list_price,
    latest.unit_cost,
    latest.currency,
    latest.weight_kg,
    latest.has_description,
    latest.image_count,
    latest.has_attributes,
    latest.content_completeness,
    latest.status,
    latest.launched_on,
    seen.first_seen_date,
    seen.last_seen_date,
    seen.last_seen_date = (select max(snapshot_date) from daily) as is_in_latest_catalog
from latest
inner join seen using (product_id)
