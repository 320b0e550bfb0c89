-- The catalog as it was on each snapshot day (cost, list price, content), with the day the next
-- snapshot took over, for as-of lookups ("what did this product cost on day d?").
select
    product_id,
    snapshot_date,
    lead(snapshot_date) over (partition by product_id order by snapshot_date) as next_snapshot_date,
    sku,
    product_name,
    category,
    brand,
    list_price,
    unit_cost,
    currency,
    weight_kg,
    description is not null                     as has_description,
    image_count,
    coalesce(image_count, 0) > 0                as has_images,
    attributes_json is not null                 as has_attributes,
    (
        cast(description is not null as integer)
        + cast(coalesce(image_count, 0) > 0 as integer)
        + cast(attributes_json is not null as integer)
    ) / 3.0                                     as content_completeness,
    status,
    launched_on
from {{ ref('stg_pim__products') }}
