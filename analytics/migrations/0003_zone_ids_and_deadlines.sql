-- Zone names (us-east-1a) are per account; zone IDs (use1-az1) are not. DescribeSpotPriceHistory
-- gives both: keep the ID beside the name, on each price and on its pool.
ALTER TABLE spot_prices ADD COLUMN zone_id VARCHAR;
ALTER TABLE pools ADD COLUMN zone_id VARCHAR;

-- When the event's instance goes away or its change starts (a warning's two minutes, a Health
-- change's startTime); an event whose deadline has passed is recorded but not acted on.
ALTER TABLE interruption_events ADD COLUMN deadline TIMESTAMP;
