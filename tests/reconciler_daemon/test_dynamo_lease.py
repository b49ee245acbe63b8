"""The DynamoDB lease against moto's DynamoDB over HTTP: one holder at a time, a fencing token
that rises on every acquisition, takeover only past expiry, throttled renewals retried within
the lease, and a superseded leader's actuation refused before it reaches Auto Scaling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from analytics.store import open_history
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.errors import LeaseLostError
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, ScalingSettings, load_settings
from reconciler.core.settings_problems import SettingsError
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.dynamo_lease import DynamoLease
from reconciler.daemon.lease_record import LeaseRecord, backoff_s, takeable
from tests.history_rows import history_rows

from .conftest import T0, Clock, make_aws_fleet, seed_market
from .lease_aws import create_lease_table, dynamodb_client, throttling_proxy

TABLE = "spotfleet-dev-daemon-lease"
EXPIRY, RENEW = 15.0, 5.0


class FakeTime:
    """Wall and monotonic clocks that move when told to (and when the lease sleeps)."""

    def __init__(self, wall: float = 1_800_000_000.0) -> None:
        self.wall, self.mono = wall, 1000.0
        self.slept: list[float] = []

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)


def lease(client: Any, clock: FakeTime, me: str) -> DynamoLease:
    return DynamoLease(
        client,
        table=TABLE,
        name="spotfleet",
        expiry_s=EXPIRY,
        renew_s=RENEW,
        me=me,
        wall=lambda: clock.wall,
        monotonic=lambda: clock.mono,
        sleep=clock.sleep,
    )


@pytest.fixture
def db(aws: str) -> Any:
    client = dynamodb_client(aws)
    create_lease_table(client, TABLE)
    return client


def test_one_holder_at_a_time_and_the_token_rises_on_every_acquisition(db: Any) -> None:
    clock = FakeTime()
    a, b = lease(db, clock, "host-a:1:aa"), lease(db, clock, "host-b:2:bb")
    assert a.try_acquire(T0) and a.token == 1 and a.still_held()
    assert not b.try_acquire(T0) and b.token is None
    assert b.holder() == "host-a:1:aa (fencing token 1, expires in 15.0 s)"
    a.fence()  # held: nothing raised
    a.release()  # marked expired, token kept: the standby need not wait
    assert b.try_acquire(T0) and b.token == 2
    b.release()
    c = lease(db, clock, "host-c:3:cc")
    assert c.try_acquire(T0) and c.token == 3  # never back to 1: old tokens stay void
    c.release()


def test_a_standby_takes_over_only_once_the_lease_has_expired(db: Any) -> None:
    clock = FakeTime()
    a, b = lease(db, clock, "host-a:1:aa"), lease(db, clock, "host-b:2:bb")
    assert a.try_acquire(T0)
    clock.advance(RENEW)
    assert a.renew()  # renewed at +5: expires at +20
    clock.advance(EXPIRY - 0.5)
    assert not a.still_held()  # the leader stopped acting one cadence before expiry ...
    assert not b.try_acquire(T0)  # ... and the standby may not take it yet
    clock.advance(1.0)
    assert b.try_acquire(T0) and b.token == 2
    assert not a.renew()  # its condition (ours, token 1) fails: lost for good
    assert a.lost == (
        "lease lost: the lease spotfleet is held by host-b:2:bb with fencing token 2; this "
        "daemon's token 1 is superseded"
    )
    with pytest.raises(LeaseLostError, match="superseded"):
        a.fence()
    assert not a.try_acquire(T0)  # a superseded daemon does not come back without a restart
    b.release()


def test_a_leader_cut_off_past_expiry_is_refused_before_any_call(db: Any) -> None:
    clock = FakeTime()
    a = lease(db, clock, "host-a:1:aa")
    assert a.try_acquire(T0)
    clock.advance(EXPIRY - RENEW)  # no renewal in time (paused, partitioned)
    with pytest.raises(LeaseLostError, match="no renewal of fencing token 1 succeeded"):
        a.fence()
    # Nobody took it meanwhile: the token still stands, so a late renewal may resume.
    assert a.renew() and a.still_held()
    a.fence()
    a.release()


def test_a_throttled_renewal_is_retried_with_back_off_within_the_lease(aws: str, db: Any) -> None:
    clock = FakeTime()
    with throttling_proxy(aws) as proxy:
        a = lease(dynamodb_client(proxy.url), clock, "host-a:1:aa")
        assert a.try_acquire(T0)
        clock.advance(RENEW)
        proxy.throttle(3)  # ProvisionedThroughputExceeded, Throttling, ProvisionedThroughput...
        assert a.renew()
        assert proxy.throttled == 3
        assert clock.slept == [backoff_s(0), backoff_s(1), backoff_s(2)] == [0.05, 0.1, 0.2]
        assert a.still_held()
        record = LeaseRecord.from_item(
            db.get_item(TableName=TABLE, Key={"lease_name": {"S": "spotfleet"}})["Item"]
        )
        assert record.token == 1 and record.expires_at == pytest.approx(clock.wall + EXPIRY, abs=1)

        # Throttled for longer than the lease has left: the retries stop at its end, and the
        # leader no longer counts itself the holder.
        clock.advance(RENEW)
        proxy.throttle(10_000)
        assert not a.renew()
        assert 4 <= sum(clock.slept[3:]) <= EXPIRY - RENEW
        clock.advance(1.0)  # the lease's remaining time is spent
        assert not a.still_held() and a.lost is None
        with pytest.raises(LeaseLostError, match="no renewal"):
            a.fence()
        proxy.throttle(0)
        a.release()


def test_takeable_and_back_off_are_pure() -> None:
    held = LeaseRecord("host-a:1:aa", 4, 100.0)
    assert takeable(None, me="x", now=0.0)
    assert not takeable(held, me="x", now=99.0)
    assert takeable(held, me="x", now=100.5)
    assert takeable(held, me="host-a:1:aa", now=0.0)
    assert [backoff_s(n) for n in range(7)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


def test_a_superseded_leaders_actuation_is_refused_by_the_fencing_check_and_recorded(
    db: Any, tmp_path: Path
) -> None:
    """The leader still believes it holds the lease (its own clocks say so), but another
    daemon took it (a clock running ahead): the executor's check reads the token back and
    nothing reaches Auto Scaling."""
    f = make_aws_fleet(desired=1)
    for i in range(7):
        f.sqs.send_message(QueueUrl=f.fleet.job_queue_urls[0], MessageBody=f"job {i}")
    ours, rivals = FakeTime(), FakeTime()
    a = lease(db, ours, "host-a:1:aa")
    assert a.try_acquire(T0)
    rivals.advance(EXPIRY + 1)
    b = lease(db, rivals, "host-b:2:bb")
    assert b.try_acquire(T0) and b.token == 2
    assert a.still_held()  # as far as its own clocks know
    daemon = Daemon(
        settings=DaemonSettings(
            fleets=(f.fleet,),
            mode="pulumi",
            scaling=ScalingSettings(acceptable_latency_s=60, default_seconds_per_job=20),
        ),
        ledger=Ledger(open_history(tmp_path / "h.duckdb")),
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clock=Clock(),
        leader=a.still_held,
        fence=a.fence,
    )
    daemon.observe_fleet()
    seed_market(daemon.ledger, f.fleet, now=Clock()())
    daemon.reconcile()
    decision = daemon.reconciler.last_decision["gen"]
    assert not decision.applied
    assert "refused by the fencing check: lease lost: the lease spotfleet is held by " in (
        decision.reason
    )
    assert "this daemon's token 1 is superseded" in decision.reason
    assert f.desired() == 1  # K=3 wanted, nothing applied
    fenced = history_rows(
        daemon.ledger, "SELECT status, detail FROM fleet_actions WHERE kind = ?", ["fenced"]
    )
    assert len(fenced) == 1 and fenced[0][0] == "refused" and "token 2" in fenced[0][1]
    assert not daemon.breaker.is_open
    assert daemon.health.readiness(scheduler_running=True).reason == "lease_lost"
    daemon.ledger.history.close()
    b.release()


def test_the_dynamodb_lease_needs_its_table_and_a_cadence_well_inside_expiry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "daemon.toml"
    config.write_text('[lease]\nkind = "dynamodb"\nexpiry_s = 10\nrenew_s = 5\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(config, environ={})
    (problem,) = caught.value.problems
    assert problem.startswith('lease: kind "dynamodb" needs table')
    assert "renew_s 5 must be at most a third of expiry_s 10" in problem
    monkeypatch.setenv("SPOTFLEET_DAEMON_LEASE__TABLE", TABLE)
    monkeypatch.setenv("SPOTFLEET_DAEMON_LEASE__RENEW_S", "2")
    settings = load_settings(config)
    assert settings.lease.table == TABLE and settings.lease.renew_s == 2
    assert load_settings(environ={}).lease.kind == "file"
