"""The daemon: the schedule's jobs, composed from the collectors, the reconciler and the
actuators. Each job method does one thing and can be called directly (tests do, with an
injected clock); ``start`` puts them on their cadences.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from analytics.export import export_history
from gpu_node.logformat import log_context
from reconciler.actuate.base import StackActuator
from reconciler.actuate.groups import AutoScalingGroups
from reconciler.api.status_view import DaemonStatus
from reconciler.collect.fleet import GroupView, observe_fleet
from reconciler.collect.interruptions import consume_interruptions
from reconciler.collect.job_events import consume_job_events
from reconciler.collect.placement_scores import collect_placement_scores
from reconciler.collect.prices import collect_prices, record_on_demand
from reconciler.core.aws import Clients
from reconciler.core.errors import AwsCallError, DaemonError, LeaseLostError
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.recovery import fail_interrupted_stack_updates
from reconciler.core.operator_commands import Command, DrainNode, StartRetrain
from reconciler.core.reactions import Reaction
from reconciler.core.readiness import Readiness
from reconciler.core.settings import DaemonSettings, FleetTarget, Mode
from reconciler.daemon.breaker import Breaker
from reconciler.daemon.cycle import Reconciler
from reconciler.daemon.demand import fleet_demand
from reconciler.daemon.health import Health
from reconciler.daemon.jobs import jobs_of
from reconciler.daemon.operator import Operator
from reconciler.daemon.preflight import mode_unavailable
from reconciler.daemon.retrain import retrain_candidate
from reconciler.daemon.scaling import ScaleDecision
from reconciler.daemon.schedule import Schedule
from reconciler.daemon.status import daemon_status
from reconciler.daemon.training import load_model
from reconciler.decide.model_registry import read_live
from reconciler.decide.model_state import ModelState, initial_state

__all__ = ["Daemon"]

log = logging.getLogger(__name__)


@dataclass
class _FleetView:
    group: GroupView | None = None
    desired: int | None = None
    desired_reason: str | None = None


def _fence_of(leader: Callable[[], bool]) -> Callable[[], None]:
    def fence() -> None:
        if not leader():
            raise LeaseLostError("lease lost: this daemon no longer holds the lease")

    return fence


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
        fence: Callable[[], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
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
        self.sleep = sleep  # between a throttled call's tries (tests pass their own)
        self._mode: Mode = settings.mode
        self.breaker = Breaker(ledger, threshold=settings.safety.breaker_failures)
        self.operator = Operator(ledger, settings.fleets, clock)
        self.reconciler = Reconciler(
            ledger=ledger,
            settings=settings,
            actuators=actuators,
            breaker=self.breaker,
            clock=clock,
            mode=lambda: self._mode,
            executor=self._groups,
            demand=self.fleet_demand,
            model=load_model(settings.model_path),
            leader=leader,
            controls=self.operator.controls,
        )
        path = settings.model_path
        self.model_state: ModelState = initial_state(path, read_live(path) if path else None)
        self._leader = leader
        # Asked before each Auto Scaling call; raises LeaseLostError (the lease's own check,
        # else the leader callable's answer).
        self._fence = fence or _fence_of(leader)
        self.reconciler.load()
        self.health = Health.for_settings(settings, leader=leader)
        self.schedule = Schedule(clock=clock, on_failure=self._record_failure, health=self.health)
        self.views: dict[str, _FleetView] = {f.name: _FleetView() for f in settings.fleets}
        self.started_at = clock()
        self.recovered = fail_interrupted_stack_updates(ledger, self.started_at)

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

    # -- what the status API asks (reconciler.api.status_view.LeadingDaemon) --------------
    def status(self) -> DaemonStatus:
        return daemon_status(self)

    def readiness(self) -> Readiness:
        return self.health.readiness(scheduler_running=self.schedule.running)

    def leading(self) -> bool:
        """The lease, checked now."""
        return self.health.leader()

    def reconcile_now(self) -> None:
        self.schedule.run_now("reconcile")

    def request_mode(self, mode: Mode, *, by: str) -> None:
        """``set_mode`` as an operator asks it: refused when the host lacks what the mode
        needs (checked when asked: the Pulumi CLI may come and go)."""
        problem = mode_unavailable(mode)
        if problem is not None:
            raise DaemonError(problem)
        self.set_mode(mode, by=by)

    # -- operator actions -------------------------------------------------------------------
    def operate(self, command: Command, *, by: str) -> str:
        """Carry out an operator's command (reconciler.daemon.operator); what was done. A
        drain reconciles the node's fleet at once: the node is planned as going, drained
        through its group and replaced, as for a warning."""
        if isinstance(command, StartRetrain) and self.settings.model_path is None:
            raise DaemonError(
                "this daemon has no model_path, so the baseline decides and there is nothing "
                "to retrain: set model_path (SPOTFLEET_DAEMON_MODEL_PATH) and restart"
            )
        if isinstance(command, StartRetrain) and not self.schedule.has("retrain"):
            raise DaemonError("the retrain job is not scheduled yet: the daemon is starting")
        said = self.operator.apply(command, by=by)
        if isinstance(command, StartRetrain):
            self.schedule.run_now("retrain")
        elif isinstance(command, DrainNode):
            fleet = self.operator.fleet(command.fleet)
            decision = self.reconciler.reconcile(
                fleet, trigger=f"operator drain of {command.instance_id}"
            )
            applied = "applied" if decision.applied else "not applied"
            said += f"; reconciled at once ({applied}): {decision.reason}"
        return said

    # -- jobs -------------------------------------------------------------------------------
    def collect_prices(self) -> None:
        for fleet in self.settings.fleets:
            with log_context(fleet=fleet.name):
                record_on_demand(self.ledger, fleet)
                collect_prices(
                    self.ledger,
                    self.clients("ec2", fleet.region),
                    fleet,
                    now=self.clock(),
                    grid_s=self.settings.grid_s,
                    capacity_from_prices=self.settings.capacity_from_prices,
                )

    def collect_placement_scores(self) -> None:
        """Every fleet's scores, one call each (with its own retries); a fleet whose call
        failed does not keep the others from theirs, and the job then fails so the signal
        shows stale."""
        failed: list[AwsCallError] = []
        for fleet in self.settings.fleets:
            with log_context(fleet=fleet.name):
                try:
                    collect_placement_scores(
                        self.ledger,
                        self.clients("ec2", fleet.region),
                        fleet,
                        now=self.clock(),
                        min_interval_s=self.settings.cadences.placement_scores_s / 2,
                        sleep=self.sleep,
                    )
                except AwsCallError as exc:
                    failed.append(exc)
        if failed:
            raise failed[0]

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
        ours = set(self.ledger.fleets_of(named))
        if ours != named:
            self.observe_fleet()
            ours = set(self.ledger.fleets_of(named))
        return ours

    def react(self, reaction: Reaction) -> None:
        """A warned pool is already marked (the event is in the history, for every fleet's
        plan); a warning about one of a fleet's nodes reconciles that fleet, and only that
        one, at once: the node is planned without, its replacement placed elsewhere."""
        now = self.clock()
        owner = (
            self.ledger.fleets_of({reaction.instance_id}).get(reaction.instance_id)
            if reaction.instance_id
            else None
        )
        self.ledger.note(
            "mark_risky",
            fleet=owner or "*",
            now=now,
            status="applied",
            target=reaction.pool,
            detail=f"event {reaction.event_id}",
        )
        fleet = next((f for f in self.settings.fleets if f.name == owner), None)
        if fleet is None or not reaction.replace_now:
            return
        with log_context(pool=reaction.pool, instance_id=reaction.instance_id):
            self.reconciler.reconcile(
                fleet, trigger=f"interruption warning for {reaction.instance_id}"
            )

    def _groups(self, fleet: FleetTarget) -> AutoScalingGroups:
        return AutoScalingGroups(
            self.clients("autoscaling", fleet.region),
            fleet,
            cold_start_s=self.settings.cold_start_s,
            settle_s=self.settings.safety.launch_settle_s,
            fence=self._fence,
        )

    def consume_job_events(self) -> None:
        for fleet in self.settings.fleets:
            if fleet.job_events_queue_url:
                consume_job_events(
                    self.ledger, self.clients("sqs", fleet.region), fleet.job_events_queue_url
                )

    def observe_fleet(self) -> None:
        for fleet in self.settings.fleets:
            with log_context(fleet=fleet.name):
                self._observe(fleet)

    def _observe(self, fleet: FleetTarget) -> None:
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

    def sync_stack(self) -> None:
        for fleet in self.settings.fleets:
            with log_context(fleet=fleet.name):
                self.reconciler.sync_stack(fleet)

    def fleet_demand(self, fleet: FleetTarget, now: datetime) -> ScaleDecision:
        """K for this reconcile (reconciler.daemon.demand), kept for the status view."""
        decision = fleet_demand(
            fleet,
            now,
            settings=self.settings,
            ledger=self.ledger,
            clients=self.clients,
            controls=self.operator.controls(fleet.name, now),
        )
        view = self.views[fleet.name]
        view.desired, view.desired_reason = decision.desired, decision.reason
        return decision

    def retrain(self) -> None:
        """A candidate fitted, kept, and promoted if it earns it (reconciler.daemon.retrain).
        Without a ``model_path`` the baseline decides, as configured; a fit that fails (too
        little history yet) keeps the model in use, and says why."""
        path = self.settings.model_path
        if path is None:
            return
        done = retrain_candidate(
            self.ledger,
            self.settings,
            path,
            live=self.reconciler.model,
            state=self.model_state,
            now=self.clock(),
        )
        if done.promoted is not None:
            self.reconciler.model = done.promoted
        self.model_state = done.state

    def export(self) -> None:
        if self.settings.export_dir is not None:
            # The lock only while DuckDB reads the history: an upload to S3 runs without it.
            export_history(self.ledger.history, self.settings.export_dir, reading=self.ledger.lock)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Every job on its cadence (reconciler.daemon.jobs)."""
        for job in jobs_of(self):
            self.schedule.add(
                job.name, job.run, every_s=job.every_s, start=False, first_in_s=job.first_in_s
            )
        self.schedule.start()

    def stop(self) -> None:
        self.schedule.shutdown()
