"""The daemon's export job to S3 (issue 16 item 1): ``export_dir`` takes a folder or an
``s3://bucket/prefix`` URI; the job writes the snapshot to moto's S3 over HTTP without holding
the history while it uploads."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

import analytics.export_s3 as export_s3
from analytics.export import open_export
from analytics.export_target import S3Location
from analytics.snapshot import history_tables
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, SettingsError, load_settings
from reconciler.daemon.daemon import Daemon

from .conftest import REGION, Clock, seed_market
from .helpers import FLEET, RecordingActuator, add_nodes


def test_export_dir_takes_a_folder_or_an_s3_uri_and_never_turns_a_uri_into_a_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings(export_dir="var/export").export_dir == Path("var/export")
    monkeypatch.setenv("SPOTFLEET_DAEMON_EXPORT_DIR", "s3://spotfleet-prod-history/history/")
    assert load_settings().export_dir == S3Location("spotfleet-prod-history", "history")
    monkeypatch.setenv("SPOTFLEET_DAEMON_EXPORT_DIR", "gs://elsewhere/history")
    with pytest.raises(SettingsError, match=r"export_dir.*not to gs://"):
        load_settings()


def test_the_export_job_writes_to_s3_and_releases_the_history_while_it_uploads(
    aws: str, ledger: Ledger
) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="spotfleet-history")
    clock = Clock()
    seed_market(ledger, FLEET, now=clock())
    add_nodes(ledger)
    daemon = Daemon(
        settings=DaemonSettings(
            fleets=(FLEET,), export_dir=S3Location("spotfleet-history", "history")
        ),
        ledger=ledger,
        actuators={"shadow": RecordingActuator(), "pulumi": RecordingActuator()},
        clock=clock,
    )
    daemon.reconcile()
    # Before each table's upload, another thread (a schedule job) tries the history's lock.
    free_while_uploading: list[bool] = []
    upload = export_s3._upload_folder

    def another_job_takes_the_history() -> None:
        if ledger.lock.acquire(timeout=5):
            ledger.lock.release()
            free_while_uploading.append(True)
        else:
            free_while_uploading.append(False)

    def watched_upload(*args: Any) -> None:
        other = threading.Thread(target=another_job_takes_the_history)
        other.start()
        other.join(timeout=10)
        upload(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(export_s3, "_upload_folder", watched_upload)
        daemon.export()
    # One upload per table of the history, each with the history's lock free.
    tables = history_tables(ledger.history.con)
    assert len(free_while_uploading) == len(tables) and all(free_while_uploading)
    with open_export("s3://spotfleet-history/history") as con:
        assert con.execute("SELECT count(*) FROM decisions").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM nodes").fetchall()[0][0] > 0
