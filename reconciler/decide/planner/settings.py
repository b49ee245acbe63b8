"""The planner's knobs, with the economics behind each default.

Loss probabilities are over the model's horizon (default 2 h, ``ModelSettings.horizon_s``),
so the thresholds below are 2-hour probabilities. They were set on the economics of the
public traces (spot about 0.30 of on-demand, one node per pool, cold start of a few
minutes) and checked on every collection in ``data/`` (docs/deciding.md has the figures).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PlannerSettings"]


@dataclass(frozen=True, slots=True)
class PlannerSettings:
    # Filters: no launch into a pool above this predicted loss (unless nothing else can reach
    # K, see risky_spot_before_on_demand), nor where spot costs this share of on-demand or
    # more (then on-demand is the better buy).
    max_loss: float = 0.80
    max_price_ratio: float = 0.90
    # Scoring: a lost node costs its cold start plus the work it was doing, valued at
    # on-demand price x unserved_weight per node-hour (while short, the fleet is not serving).
    work_lost_s: float = 120.0
    unserved_weight: float = 4.0
    spread_penalty: float = 0.05  # per node already in the same zone, as a share of the price
    # Spares: one more spot node per `spare_risk` of expected losses (the summed loss
    # probabilities of the K nodes that serve), up to max_spare. A spare costs 0.3/K of the
    # fleet's on-demand price for as long as it is held, so it is bought only when the
    # fleet as a whole is more likely than not to lose a node within the horizon.
    spare_risk: float = 1.50
    # ... where one spare costs this share of the fleet's on-demand price (spot / (K x
    # on-demand): 0.15 for v100 at K=2). A spare is worth what the losses it covers are
    # worth, and its price next to the fleet is that share, so the expected losses that buy
    # one scale with it, by half to twice: 1.5 at K=2, 0.75 at K=4 and above, 3.0 at K=1
    # (docs/deciding.md has the figures). 0: no scaling, one per spare_risk whatever it costs.
    spare_share_ref: float = 0.15
    max_spare: int = 2
    # After the fleet loses a node, hold at least one spare for this long: on the public
    # traces a fleet's losses come in bursts (a third follow another within half an hour,
    # 60% within two hours), mostly because the replacement went into a less settled pool.
    alert_s: float = 3600.0
    # ... but only where a spare is cheap next to the fleet: its spot price over the on-demand
    # price of the K nodes it protects (0.15 for v100 at K=2, 0.40 for p3.16xlarge at K=1).
    alert_max_share: float = 0.20
    # Moves: a node whose pool's loss is above move_risk is replaced ahead of the loss
    # (launch first, drain after) if a place at least min_gain safer exists.
    move_risk: float = 0.80
    min_gain: float = 0.25
    # Against flapping: after any spot launch nothing is shed as surplus until the newest
    # node has served min_dwell_s; an on-demand node serves at least on_demand_dwell_s.
    min_dwell_s: float = 1800.0
    on_demand_dwell_s: float = 600.0
    # Where spot has no room left for a spare, an on-demand node is drained only once the
    # spot node that replaces it has been ready this long. Spot that just came back is the
    # likeliest to go again (on the public traces half the up-runs of a pool end within
    # 20-80 minutes), and warm on-demand is then the only spare the fleet can have (as many
    # nodes as the new spot's expected losses, at least one): on the few-pool collections
    # this is what beats Karpenter's and SpotHedge's fallback (docs/deciding.md). 0: drain
    # as soon as spot is ready, as before.
    on_demand_settle_s: float = 5400.0
    # ... unless the replacing node's pool is predicted this safe (its P(loss) below this):
    # a settled pool by the model's account needs no spare on top.
    settle_below_loss: float = 0.0
    # On-demand fills the fleet up to K when spot cannot; off: the fleet runs short instead.
    on_demand_fallback: bool = True
    # Last resort before on-demand: pools over max_loss may still fill the fleet up to K.
    risky_spot_before_on_demand: bool = True
