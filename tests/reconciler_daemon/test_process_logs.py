"""The daemon's logs as an operator reads them: ``python -m reconciler run --log-format json``
against moto's server, one JSON object per line, the fleet and decision id as fields, and no
bearer token or AWS credential anywhere in a run's log (an operator action included)."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import httpx
import pytest

from .conftest import free_port, make_aws_fleet
from .test_process import daemon_env, daemon_process, wait_ready, write_config

TOKEN = "daemon-api-token-5f2c9e1b7a"
# AWS's documented example key pair: moto takes any.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.slow
def test_a_json_run_logs_one_object_per_line_with_its_fleet_and_no_secret(
    aws: str, tmp_path: Path
) -> None:
    fleet = make_aws_fleet(desired=1).fleet
    port = free_port()
    cadences = "".join(
        f"{job}_s = 1\n" for job in ("prices", "interruptions", "job_events", "fleet", "reconcile")
    )
    config = write_config(tmp_path, port, f"[cadences]\n{cadences}")
    env = daemon_env(
        AWS_ENDPOINT_URL=aws,
        AWS_ACCESS_KEY_ID=ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION="us-east-1",
        SPOTFLEET_DAEMON_API_TOKEN=TOKEN,
        SPOTFLEET_DAEMON_FLEETS=json.dumps([fleet.model_dump(mode="json")]),
        SPOTFLEET_DAEMON_LOG_FORMAT="json",  # the setting; --log-format would win
    )
    with daemon_process(config, env) as proc:
        wait_ready(port, proc)
        deadline = time.monotonic() + 60
        while '"decision_id"' not in proc.log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, proc.finish()[-3000:]
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {TOKEN}"}
        pool = next(iter(fleet.pools()))
        body = {"pool": pool, "reason": "checking the logs", "for_s": 60}
        assert httpx.post(f"{url}/fleets/gen/cordon", json=body, headers=auth).status_code == 200
        wrong = {"Authorization": f"Bearer {TOKEN}-not"}
        assert httpx.post(f"{url}/reconcile", headers=wrong).status_code == 401
        proc.send_signal(signal.SIGTERM)
        log = proc.finish()
    assert proc.returncode == 0, log[-3000:]

    records = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    decisions = [r for r in records if str(r["message"]).startswith("decision ")]
    assert decisions and all(r["fleet"] == "gen" for r in decisions)
    assert all(str(r["decision_id"]) in str(r["message"]) for r in decisions)
    (cordoned,) = [r for r in records if str(r["message"]).startswith("operator cordon")]
    assert cordoned["fleet"] == "gen" and cordoned["pool"] == pool
    for secret in (TOKEN, ACCESS_KEY_ID, SECRET_ACCESS_KEY):
        assert secret not in log, f"{secret[:4]}... reached the log"
