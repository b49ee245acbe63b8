-- Spot placement scores (GetSpotPlacementScores, SingleAvailabilityZone): how likely AWS says
-- a request for target_capacity nodes of the fleet's types would succeed in a zone, 1 to 10.
-- AWS scores the requested set of types together and names the zone by its ID only; a row is
-- kept per requested type (the score is the set's) so it joins on pools, and the zone name is
-- the one the history knows for that ID (NULL until a price has named it).
CREATE TABLE placement_scores (
    region          VARCHAR   NOT NULL,
    zone            VARCHAR,
    zone_id         VARCHAR   NOT NULL,
    instance_type   VARCHAR   NOT NULL,
    target_capacity INTEGER   NOT NULL,
    score           INTEGER   NOT NULL CHECK (score BETWEEN 1 AND 10),
    ts              TIMESTAMP NOT NULL,
    source          VARCHAR   NOT NULL,
    PRIMARY KEY (region, zone_id, instance_type, target_capacity, ts)
);
