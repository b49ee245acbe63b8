-- What the fleet's nodes cost against the same node-hours on demand, by fleet.
WITH held AS (
    SELECT
        fleet, lifecycle, hourly_price,
        split_part(pool, '/', 1) AS region,
        split_part(pool, '/', 3) AS instance_type,
        epoch(coalesce(terminated_at, (SELECT max(observed_at) FROM nodes)) - launched_at)
            / 3600.0 AS hours
    FROM nodes
    WHERE launched_at IS NOT NULL
),
on_demand AS (
    SELECT instance_type, region, arg_max(price, effective_at) AS price
    FROM on_demand_prices WHERE operating_system = 'Linux'
    GROUP BY ALL
)
SELECT
    h.fleet,
    sum(h.hours) FILTER (WHERE h.lifecycle = 'spot') AS spot_node_hours,
    sum(h.hours) FILTER (WHERE h.lifecycle = 'on-demand') AS on_demand_node_hours,
    sum(h.hours * h.hourly_price) AS cost,
    sum(h.hours * coalesce(o.price, (SELECT min(price) FROM on_demand x
                                     WHERE x.instance_type = h.instance_type))) AS on_demand_cost,
    1 - sum(h.hours * h.hourly_price)
        / nullif(sum(h.hours * coalesce(o.price, (SELECT min(price) FROM on_demand x
                                                  WHERE x.instance_type = h.instance_type))), 0)
        AS savings_fraction
FROM held h
LEFT JOIN on_demand o USING (region, instance_type)
GROUP BY h.fleet
ORDER BY h.fleet
