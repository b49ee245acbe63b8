"""The planner's knobs, with the economics behind each default."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PlannerSettings"]


@dataclass(frozen=True, slots=True)
class PlannerSettings:
    # Filters: a pool is not launched into above this predicted loss, nor when its spot
    # price is this close to on-demand (then on-demand is the better buy).
    max_loss: float = 0.30
    max_price_ratio: float = 0.90
    # Scoring: a lost node costs its cold start plus the work it was doing, valued at
    # on-demand price x unserved_weight per node-hour (an unserved tick stops the fleet).
    work_lost_s: float = 120.0
    unserved_weight: float = 4.0
    spread_penalty: float = 0.05  # per node already in the same zone, as a share of the price
    # Spares: hold one more spot node for every `spare_risk` of expected losses within the
    # horizon among the nodes held, up to `max_spare`; see docs/deciding.md for the trade.
    spare_risk: float = 0.15
    max_spare: int = 2
    # After the fleet loses a node, hold at least one spare for this long: on the public
    # traces a fleet's losses come in bursts (a third follow another within half an hour).
    alert_s: float = 3600.0
    # Moves: a node whose pool's loss is above move_risk is replaced ahead of the loss
    # (launch first, drain after) if a pool at least min_gain safer has a free slot.
    move_risk: float = 0.25
    min_gain: float = 0.10
    # Against flapping: a spot node is not drained as surplus before min_dwell_s, and an
    # on-demand node not before on_demand_dwell_s.
    min_dwell_s: float = 1800.0
    on_demand_dwell_s: float = 1800.0
    # On-demand fills the fleet up to K when spot cannot; off: the fleet runs short instead.
    on_demand_fallback: bool = True
    # Last resort before on-demand: pools over max_loss may still fill the fleet up to K.
    risky_spot_before_on_demand: bool = True
