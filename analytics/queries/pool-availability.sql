-- How often each pool had spot capacity: the fraction of observations with capacity > 0.
SELECT
    pool,
    count(*) AS samples,
    avg((capacity > 0)::INTEGER) AS available_fraction,
    sum(interval_s) FILTER (WHERE capacity > 0) / 3600.0 AS available_hours,
    min(ts) AS first_seen,
    max(ts) AS last_seen
FROM capacity_observations
GROUP BY pool
ORDER BY pool
