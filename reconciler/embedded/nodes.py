"""The embedded default's nodes: each one a real ``python -m gpu_node run`` process.

A node gets what an EC2 instance would give it: its own instance metadata (a prefix of the
local IMDS), its settings in the environment (on EC2 they come from the instance's tags), AWS
at the local emulation. Taking a spot node back is done as AWS does it: the two-minute notice
in the node's metadata, and the matching EventBridge event on the bus for the daemon.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from analytics.pools import Pool
from gpu_node.localimds import LocalImds
from gpu_node.standby import waiting_marker
from reconciler.embedded.local_aws import FleetEndpoints, LocalAws, free_port

__all__ = ["NodeProcesses", "NodeSpec", "RunningNode"]

log = logging.getLogger(__name__)

_REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class NodeSpec:
    instance_id: str
    pool: Pool
    lifecycle: str  # 'spot' or 'on-demand'
    hourly_price: float


@dataclass(frozen=True, slots=True)
class _Standby:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    identity: Path  # where its identity is written when it becomes an instance


@dataclass
class RunningNode:
    spec: NodeSpec
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    kill_at: float | None = None  # monotonic time of the SIGKILL, once terminated

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


class NodeProcesses:
    """Starts, interrupts and stops node processes; never leaves one behind (``stop_all``)."""

    def __init__(
        self,
        *,
        aws: LocalAws,
        imds: LocalImds,
        endpoints: FleetEndpoints,
        fleet: str,
        model_dir: Path,
        log_dir: Path,
        workdir: Path = _REPO,
        extra_env: dict[str, str] | None = None,
        keep_warm: int = 0,
    ) -> None:
        """``keep_warm``: node processes kept started ahead, model loaded, each waiting to
        become the next instance launched (``gpu_node.standby``); 0 starts each at launch."""
        self._aws, self._imds, self._endpoints = aws, imds, endpoints
        self._fleet, self._model_dir, self._log_dir = fleet, model_dir, log_dir
        self._workdir = workdir
        self._extra_env = extra_env or {}
        self._nodes: dict[str, RunningNode] = {}
        self._logs: list[IO[bytes]] = []
        self._keep_warm = keep_warm
        self._standby: list[_Standby] = []
        self._spawned = 0
        self._late = 0
        log_dir.mkdir(parents=True, exist_ok=True)
        self.warm()

    @property
    def nodes(self) -> dict[str, RunningNode]:
        return dict(self._nodes)

    @property
    def late_starts(self) -> int:
        """Launches that found no process with its model loaded: each one's start-up (tens of
        wall seconds under load, most of a market hour) counts against its node's readiness."""
        return self._late

    def _env(self, port: int, **settings: str) -> dict[str, str]:
        return {
            **os.environ,
            **self._aws.environ(),
            "SPOTFLEET_QUEUE_URL": self._endpoints.job_queue_url,
            "SPOTFLEET_PRIORITY_QUEUE_URL": self._endpoints.priority_queue_url,
            "SPOTFLEET_RESULTS_BUCKET": self._endpoints.results_bucket,
            "SPOTFLEET_EVENTS_TOPIC_ARN": self._endpoints.events_topic_arn,
            "SPOTFLEET_FLEET": self._fleet,
            "SPOTFLEET_MODEL_DIR": str(self._model_dir),
            "SPOTFLEET_PORT": str(port),
            "SPOTFLEET_CPU_THREADS": "1",
            **self._extra_env,
            **settings,
        }

    def _spawn(self, log_path: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = log_path.open("ab")
        self._logs.append(log)
        return subprocess.Popen(
            [sys.executable, "-m", "gpu_node", "run"],
            cwd=self._workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops its children
        )

    def warm(self) -> None:
        """Start standby processes until ``keep_warm`` are waiting."""
        self._standby = [w for w in self._standby if w.process.poll() is None]
        while len(self._standby) < self._keep_warm:
            self._spawned += 1
            name = f"standby-{self._spawned}"
            port = free_port()
            identity = self._log_dir / f"{name}.identity.json"
            log_path = self._log_dir / f"{name}.log"
            env = self._env(port, SPOTFLEET_STANDBY_FILE=str(identity))
            self._standby.append(_Standby(self._spawn(log_path, env), port, log_path, identity))

    def wait_warm(self, timeout_s: float) -> int:
        """Wait until every standby process has loaded its model (or ``timeout_s`` passes);
        how many are ready. The market should not start before the fleet can launch."""
        deadline = time.monotonic() + timeout_s
        while True:
            ready = sum(1 for w in self._standby if waiting_marker(w.identity).exists())
            if ready >= len(self._standby) or time.monotonic() >= deadline:
                return ready
            time.sleep(0.1)

    def launch(self, spec: NodeSpec) -> RunningNode:
        imds_url = self._imds.add(
            spec.instance_id, instance_type=spec.pool.instance_type, zone=spec.pool.zone
        )
        log_path = self._log_dir / f"{spec.instance_id}.log"
        alive = [w for w in self._standby if w.process.poll() is None]
        standby = next((w for w in alive if waiting_marker(w.identity).exists()), None)
        if standby is None:
            self._late += 1
            # Asked for (no process kept warm) it is what was chosen; otherwise a burst beat it.
            log.log(
                logging.WARNING if self._keep_warm else logging.INFO,
                "no node process had its model loaded for %s: its start-up counts against "
                "its readiness (raise --warm-nodes above the launches of one burst)",
                spec.instance_id,
            )
            standby = next(iter(alive), None)
        if standby is not None:
            # Become this instance: its metadata, written whole (a rename) so it reads it once.
            self._standby.remove(standby)
            staged = standby.identity.with_suffix(".tmp")
            staged.write_text(json.dumps({"SPOTFLEET_IMDS_URL": imds_url}))
            staged.rename(standby.identity)
            log_path.symlink_to(standby.log_path.name)
            node = RunningNode(spec, standby.process, standby.port, log_path)
        else:
            port = free_port()
            process = self._spawn(log_path, self._env(port, SPOTFLEET_IMDS_URL=imds_url))
            node = RunningNode(spec, process, port, log_path)
        self._nodes[spec.instance_id] = node
        self.warm()
        return node

    def interrupt(self, instance_id: str, zone: str, *, deadline: datetime, at: datetime) -> None:
        """What AWS does two minutes before taking a spot instance: the EventBridge event on
        the bus (which the interruption rules route to the daemon), sent whatever runs on the
        instance, and the notice in its metadata where a node process runs to read it.

        ``deadline`` is when the node will be taken, on the node's own (wall) clock; ``at`` is
        the event's time on the bus, on the market's clock (the embedded default replays an
        old market faster than real time; the daemon lives on that clock).
        """
        if instance_id in self._nodes:
            self._imds.spot_interruption(instance_id, deadline)
        self._aws.client("events").put_events(
            Entries=[
                {
                    "Time": at,
                    "Source": "aws.ec2",
                    "DetailType": "EC2 Spot Instance Interruption Warning",
                    "Detail": json.dumps(
                        {"instance-id": instance_id, "instance-action": "terminate"}
                    ),
                    "Resources": [f"arn:aws:ec2:{zone}:123456789012:instance/{instance_id}"],
                }
            ]
        )

    def terminate(self, instance_id: str, *, grace_s: float = 10.0) -> None:
        """Take the node away as EC2 does: SIGTERM to its process group (the node drains on
        it), SIGKILL once the grace is over. Returns at once; ``reap`` sees it end and kills
        it at the end of the grace."""
        node = self._nodes.get(instance_id)
        self._imds.remove(instance_id)
        if node is None:
            return
        node.kill_at = time.monotonic() + grace_s
        self._signal(node, signal.SIGTERM)

    @staticmethod
    def _signal(node: RunningNode, sig: signal.Signals) -> None:
        if node.alive:
            with contextlib.suppress(ProcessLookupError):  # it may have just ended
                os.killpg(node.process.pid, sig)

    def reap(self) -> list[RunningNode]:
        """Nodes whose process has ended (drained and exited, or crashed), now forgotten; a
        terminated node still running at the end of its grace is killed first."""
        now = time.monotonic()
        for node in self._nodes.values():
            if node.kill_at is not None and now >= node.kill_at:
                self._signal(node, signal.SIGKILL)
                node.process.wait()
        ended = [n for n in self._nodes.values() if not n.alive]
        for node in ended:
            del self._nodes[node.spec.instance_id]
            self._imds.remove(node.spec.instance_id)
        return ended

    def stop_all(self, *, grace_s: float = 10.0) -> None:
        """Terminate every node and wait for them all: no process is left behind."""
        self._keep_warm = 0
        for waiting in self._standby:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(waiting.process.pid, signal.SIGKILL)
            waiting.process.wait()
        self._standby.clear()
        for instance_id in list(self._nodes):
            self.terminate(instance_id, grace_s=grace_s)
        deadline = time.monotonic() + grace_s
        while self._nodes and time.monotonic() < deadline:
            self.reap()
            time.sleep(0.05)
        for node in self._nodes.values():
            self._signal(node, signal.SIGKILL)
            node.process.wait()
        self._nodes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()
