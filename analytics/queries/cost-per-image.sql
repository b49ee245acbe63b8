-- Cost per image by fleet: what its nodes cost, over the images it completed.
WITH cost AS (
    SELECT fleet,
           sum(hourly_price * epoch(coalesce(terminated_at, (SELECT max(observed_at) FROM nodes))
                                    - launched_at) / 3600.0) AS cost
    FROM nodes
    WHERE launched_at IS NOT NULL
    GROUP BY fleet
),
images AS (
    SELECT fleet,
           count(*) FILTER (WHERE state = 'completed') AS images,
           count(*) FILTER (WHERE state = 'dead_lettered') AS dead_lettered,
           avg(seconds) FILTER (WHERE state = 'completed') AS mean_seconds
    FROM jobs
    GROUP BY fleet
)
SELECT fleet, images, dead_lettered, mean_seconds, cost, cost / nullif(images, 0) AS cost_per_image
FROM cost FULL OUTER JOIN images USING (fleet)
ORDER BY fleet
