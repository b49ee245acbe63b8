-- Spot price percentiles by pool (Linux), against the on-demand list price of the type.
WITH on_demand AS (
    SELECT region, instance_type, arg_max(price, effective_at) AS on_demand
    FROM on_demand_prices
    WHERE operating_system = 'Linux'
    GROUP BY ALL
),
spot AS (
    SELECT
        region, zone, instance_type,
        count(*) AS samples,
        quantile_cont(price, 0.10) AS p10,
        quantile_cont(price, 0.50) AS p50,
        quantile_cont(price, 0.90) AS p90,
        arg_max(price, ts) AS last_price,
        max(ts) AS last_seen
    FROM spot_prices
    WHERE product = 'Linux/UNIX'
    GROUP BY ALL
)
SELECT
    s.region || '/' || s.zone || '/' || s.instance_type AS pool,
    s.samples, s.p10, s.p50, s.p90, s.last_price,
    coalesce(o.on_demand, (SELECT min(on_demand) FROM on_demand x
                           WHERE x.instance_type = s.instance_type)) AS on_demand,
    1 - s.p50 / nullif(coalesce(o.on_demand, (SELECT min(on_demand) FROM on_demand x
                                               WHERE x.instance_type = s.instance_type)), 0)
        AS median_discount,
    s.last_seen
FROM spot s
LEFT JOIN on_demand o USING (region, instance_type)
ORDER BY pool
