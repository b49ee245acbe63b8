"""The daemon: the schedule's jobs, composed from the collectors, the reconciler and the
actuators. Each job method does one thing and can be called directly (tests do, with an
injected clock); ``start`` puts them on their cadences.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from analytics.export import export_history
from reconciler.actuate.base import StackActuator
from reconciler.actuate.scaler import AutoScalingScaler
from reconciler.collect.aws import Clients
from reconciler.collect.fleet import GroupView, observe_fleet, read_backlog
from reconciler.collect.interruptions import consume_interruptions
from reconciler.collect.job_events import consume_job_events
from reconciler.collect.prices import collect_prices, record_on_demand
from reconciler.daemon.breaker import Breaker
from reconciler.daemon.cycle import Reconciler, recover
from reconciler.daemon.decide_adapter import load_model, train_from_history
from reconciler.daemon.errors import DaemonError
from reconciler.daemon.ledger import Ledger
from reconciler.daemon.reactions import Reaction
from reconciler.daemon.scaling import desired_nodes
from reconciler.daemon.schedule import Schedule
from reconciler.daemon.settings import DaemonSettings, FleetTarget, Mode

__all__ = ["Daemon"]

log = logging.getLogger(__name__)


@dataclass
class _FleetView:
    group: GroupView | None = None
    desired: int | None = None
    desired_reason: str | None = None


class Daemon:
    def __init__(
        self,
        *,
        settings: DaemonSettings,
        ledger: Ledger,
        actuators: dict[Mode, StackActuator],
        clients: Clients | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        leader: Callable[[], bool] = lambda: True,
    ) -> None:
        if settings.mode not in actuators:
            raise DaemonError(
                f"mode {settings.mode!r} has no actuator here (this daemon has "
                f"{', '.join(sorted(actuators))}); 'local' is the embedded default's: "
                "python -m reconciler demo"
            )
        self.settings = settings
        self.ledger = ledger
        self._actuators = actuators
        self.clients = clients or Clients()
        self.clock = clock
        self._mode: Mode = settings.mode
        self.breaker = Breaker(ledger, threshold=settings.safety.breaker_failures)
        self.reconciler = Reconciler(
            ledger=ledger,
            settings=settings,
            actuators=actuators,
            breaker=self.breaker,
            clock=clock,
            mode=lambda: self._mode,
            model=load_model(settings.model_path),
            leader=leader,
        )
        self._leader = leader
        self.reconciler.load()
        self.schedule = Schedule(clock=clock, on_failure=self._record_failure)
        self.views: dict[str, _FleetView] = {f.name: _FleetView() for f in settings.fleets}
        self.started_at = clock()
        self.recovered = recover(ledger, self.started_at)

    def _record_failure(self, job: str, error: str) -> None:
        """A failed job, in the history beside the decisions (the log has the traceback)."""
        try:
            self.ledger.note(
                "job_failed",
                fleet="*",
                now=self.clock(),
                status="failed",
                target=job,
                detail=error[:2000],
            )
        except Exception:  # the history itself may be what failed
            log.exception("could not record the failure of job %s", job)

    # -- mode -------------------------------------------------------------------------------
    @property
    def mode(self) -> Mode:
        return self._mode

    def set_mode(self, mode: Mode, *, by: str) -> None:
        if mode not in self._actuators:
            raise DaemonError(f"mode {mode!r} has no actuator in this daemon")
        now = self.clock()
        self.ledger.note(
            "mode",
            fleet="*",
            now=now,
            status="applied",
            target=mode,
            detail=f"{self._mode} -> {mode} by {by}",
        )
        self._mode = mode

    def reset_breaker(self, *, by: str) -> None:
        now = self.clock()
        self.breaker.reset(now)
        self.ledger.note("breaker_reset", fleet="*", now=now, status="applied", detail=f"by {by}")

    # -- jobs -------------------------------------------------------------------------------
    def collect_prices(self) -> None:
        for fleet in self.settings.fleets:
            record_on_demand(self.ledger, fleet)
            collect_prices(
                self.ledger,
                self.clients("ec2", fleet.region),
                fleet,
                now=self.clock(),
                grid_s=self.settings.grid_s,
                capacity_from_prices=self.settings.capacity_from_prices,
            )

    def consume_interruptions(self) -> None:
        seen: set[str] = set()
        for fleet in self.settings.fleets:
            url = fleet.interruption_queue_url
            if url is None or url in seen:
                continue  # the queue is account-wide: fleets may share it
            seen.add(url)
            consumed = consume_interruptions(
                self.ledger,
                self.clients("sqs", fleet.region),
                url,
                own_instances=self._own_instances,
                now=self.clock(),
                grace=timedelta(seconds=self.settings.safety.event_grace_s),
            )
            for reaction in consumed.reactions:
                self.react(reaction)

    def _own_instances(self, named: set[str]) -> set[str]:
        """Which of ``named`` are the fleets' nodes. A node launched since the last
        observation is not in the history yet: observe the fleets again before calling an
        instance someone else's (its warning would otherwise be dropped)."""

        def known() -> set[str]:
            rows = self.ledger.rows(
                "SELECT instance_id FROM nodes WHERE list_contains(?, instance_id)", [list(named)]
            )
            return {str(r[0]) for r in rows}

        ours = known()
        if ours != named:
            self.observe_fleet()
            ours = known()
        return ours

    def react(self, reaction: Reaction) -> None:
        """A warned pool is already marked (the event is in the history); a warning also
        asks for a replacement now: one node more, and a reconcile without the pool."""
        fleet = self._fleet_of(reaction.pool)
        if fleet is None:
            return
        now = self.clock()
        self.ledger.note(
            "mark_risky",
            fleet=fleet.name,
            now=now,
            status="applied",
            target=reaction.pool,
            detail=f"event {reaction.event_id}",
        )
        if not reaction.replace_now:
            return
        self._ask_replacement(fleet, reaction, now)
        self.reconciler.reconcile(fleet, trigger=f"interruption warning for {reaction.instance_id}")

    def _ask_replacement(self, fleet: FleetTarget, reaction: Reaction, now: datetime) -> None:
        if self.views[fleet.name].group is None:
            self.observe_fleet()  # the replacement is +1 on the group's real size
        view = self.views[fleet.name].group
        current = view.desired if view is not None else 0
        target = min(fleet.max_nodes, current + 1)
        detail = f"{reaction.instance_id} in {reaction.pool} warned: desired {current} -> {target}"
        if target == current:
            detail += f" (at max_nodes {fleet.max_nodes})"
        self._set_desired(fleet, "replacement", target, detail, now, act=target != current)

    def _set_desired(
        self, fleet: FleetTarget, kind: str, target: int, detail: str, now: datetime, *, act: bool
    ) -> bool:
        """SetDesiredCapacity, unless in shadow, with the breaker open (replacements) or the
        lease lost; recorded either way, with why it was skipped. True when applied."""

        def note(status: str, text: str) -> None:
            self.ledger.note(
                kind, fleet=fleet.name, now=now, status=status,
                target=fleet.autoscaling_group, detail=text,
            )  # fmt: skip

        why = None
        if self._mode == "shadow":
            why = "shadow mode"
        elif kind == "replacement" and self.breaker.is_open:
            why = "breaker open"
        elif not self._leader():
            why = "lease lost"
        if why is not None or not act:
            note("skipped", detail if why is None else f"{detail} ({why})")
            return False
        try:
            AutoScalingScaler(self.clients("autoscaling", fleet.region)).set_desired(
                fleet.autoscaling_group, target
            )
        except Exception as exc:
            note("failed", f"{detail}: {exc}")
            raise
        note("applied", detail)
        return True

    def _fleet_of(self, pool: str) -> FleetTarget | None:
        return next((f for f in self.settings.fleets if pool in f.pools()), None)

    def consume_job_events(self) -> None:
        for fleet in self.settings.fleets:
            if fleet.job_events_queue_url:
                consume_job_events(
                    self.ledger, self.clients("sqs", fleet.region), fleet.job_events_queue_url
                )

    def observe_fleet(self) -> None:
        for fleet in self.settings.fleets:
            self.views[fleet.name].group = observe_fleet(
                self.ledger,
                self.clients("autoscaling", fleet.region),
                self.clients("ec2", fleet.region),
                fleet,
                now=self.clock(),
            )

    def reconcile(self) -> None:
        for fleet in self.settings.fleets:
            self.reconciler.reconcile(fleet)

    def scale(self) -> None:
        for fleet in self.settings.fleets:
            self.scale_fleet(fleet)

    def scale_fleet(self, fleet: FleetTarget) -> int:
        now, s = self.clock(), self.settings.scaling
        backlog = read_backlog(self.clients("sqs", fleet.region), fleet.job_queue_urls)
        idle_key = f"idle_since:{fleet.name}"
        idle_since = self.ledger.get_state(idle_key)
        if backlog.visible + backlog.in_flight > 0:
            if idle_since is not None:
                self.ledger.set_state(idle_key, None, now)
            idle_since = None
        elif idle_since is None:
            idle_since = now.isoformat()
            self.ledger.set_state(idle_key, idle_since, now)
        per_job = self.ledger.seconds_per_job(fleet.name, now - timedelta(seconds=s.job_window_s))
        group = self.views[fleet.name].group
        current = group.desired if group is not None else fleet.min_nodes
        decision = desired_nodes(
            visible=backlog.visible,
            in_flight=backlog.in_flight,
            seconds_per_job=per_job or s.default_seconds_per_job,
            acceptable_latency_s=s.acceptable_latency_s,
            min_nodes=fleet.min_nodes,
            max_nodes=fleet.max_nodes,
            current=current,
            idle_since=datetime.fromisoformat(idle_since) if idle_since else None,
            now=now,
            idle_to_zero_s=s.idle_to_zero_s,
            replacing=self.ledger.warned_running(
                fleet.name, now - timedelta(seconds=self.settings.safety.risky_mark_s)
            ),
        )
        self.views[fleet.name].desired = decision.desired
        self.views[fleet.name].desired_reason = decision.reason
        self.ledger.set_state(f"desired:{fleet.name}", decision.desired, now)
        if decision.desired == current:
            return decision.desired
        detail = f"{current} -> {decision.desired}: {decision.reason}"
        applied = self._set_desired(fleet, "set_desired", decision.desired, detail, now, act=True)
        if applied and group is not None:
            self.views[fleet.name].group = GroupView(decision.desired, group.instances)
        return decision.desired

    def retrain(self) -> None:
        """Fit the model on the history collected so far, swap it in where the daemon loads it
        from, and decide with it. Without a ``model_path`` the baseline decides, as configured;
        a fit that fails (too little history yet) keeps the model in use, and says why."""
        path = self.settings.model_path
        if path is None:
            return
        pools = sorted({pool for fleet in self.settings.fleets for pool in fleet.pools()})
        with self.ledger.reader() as con:
            model = train_from_history(
                con,
                pools,
                now=self.clock(),
                lookback_s=self.settings.training_lookback_s,
                grid_s=self.settings.grid_s,
            )
        # Written beside, then renamed into place: a restart never loads half an artifact.
        staging, previous = path.with_name(f"{path.name}.new"), path.with_name(f"{path.name}.old")
        shutil.rmtree(staging, ignore_errors=True)
        model.save(staging)
        if path.exists():
            shutil.rmtree(previous, ignore_errors=True)
            path.rename(previous)
        staging.rename(path)
        shutil.rmtree(previous, ignore_errors=True)
        self.reconciler.model = model

    def export(self) -> None:
        if self.settings.export_dir is not None:
            with self.ledger.con():
                export_history(self.ledger.history, self.settings.export_dir)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        c = self.settings.cadences
        # Collectors run at once; deciding and scaling a little later, once the first
        # collection is in the history; retrain and export after a full cadence.
        settle = 15.0
        jobs: list[tuple[str, Callable[[], None], float, float]] = [
            ("prices", self.collect_prices, c.prices_s, 0.0),
            ("interruptions", self.consume_interruptions, c.interruptions_s, 0.0),
            ("job_events", self.consume_job_events, c.job_events_s, 0.0),
            ("fleet", self.observe_fleet, c.fleet_s, 0.0),
            ("reconcile", self.reconcile, c.reconcile_s, min(settle, c.reconcile_s)),
            ("scale", self.scale, c.scale_s, min(settle, c.scale_s)),
            ("retrain", self.retrain, c.retrain_s, c.retrain_s),
            ("export", self.export, c.export_s, c.export_s),
        ]
        for name, fn, every, first_in in jobs:
            self.schedule.add(name, fn, every_s=every, start=False, first_in_s=first_in)
        self.schedule.start()

    def stop(self) -> None:
        self.schedule.shutdown()
