from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from reconciler.core.settings import SettingsError, load_settings
from reconciler.daemon.command import register

TOML = """
mode = "shadow"
api_port = 9100

[safety]
churn_per_hour = 2

[[fleets]]
name = "gen"
instance_types = ["g5.xlarge"]
subnets = { "us-east-1a" = "subnet-1" }
on_demand_group = "spotfleet-gen-on-demand"
spot_groups = { "us-east-1/us-east-1a/g5.xlarge" = "spotfleet-gen-us-east-1a-g5-xlarge" }
"""


def test_defaults_are_safe_without_any_file() -> None:
    s = load_settings()
    assert s.mode == "shadow" and s.api_host == "127.0.0.1" and s.api_token is None


def test_file_then_environment_with_nested_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text(TOML)
    monkeypatch.setenv("SPOTFLEET_DAEMON_API_PORT", "9200")
    monkeypatch.setenv("SPOTFLEET_DAEMON_SAFETY__STALE_AFTER_S", "60")
    s = load_settings(path)
    assert s.api_port == 9200  # the environment wins over the file
    assert s.safety.churn_per_hour == 2 and s.safety.stale_after_s == 60
    assert s.fleet("gen").pools() == ("us-east-1/us-east-1a/g5.xlarge",)


def test_a_typo_in_the_file_is_refused_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text(TOML + "\nchurn_per_huor = 3\n")
    with pytest.raises(SettingsError, match="churn_per_huor: unknown key"):
        load_settings(path)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "nope.toml")


# -- mistakes: one line per problem, naming the key; the command exits 2 without a traceback

FLEET_TOML = """
[[fleets]]
name = "gen"
instance_types = ["g5.xlarge"]
subnets = {{ "us-east-1a" = "subnet-1"{zones} }}
{extra}
"""


def _problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> tuple[str, ...]:
    path = tmp_path / "daemon.toml"
    path.write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings(path, environ=env or {})
    return caught.value.problems


def test_every_bad_value_is_one_line_naming_its_key(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        'api_port = 99999\nmode = "yolo"\n[safety]\nchurn_per_huor = 3\n'
        + FLEET_TOML.format(zones="", extra="max_nodes = 0"),
    )
    assert len(problems) == 4, problems
    for start in (
        "api_port: Input should be less than or equal to 65535, got 99999",
        "mode: Input should be 'shadow', 'pulumi' or 'local', got 'yolo'",
        "safety.churn_per_huor: unknown key (did you mean churn_per_hour?)",
        "fleets[0].max_nodes: Input should be greater than or equal to 1, got 0",
    ):
        assert any(p.startswith(start) for p in problems), (start, problems)
    assert all("\n" not in p for p in problems)


@pytest.mark.parametrize(
    ("zones", "extra", "expected"),
    [
        ("", "min_nodes = 5\nmax_nodes = 3", "fleets[0] ('gen'): min_nodes 5 is above max_nodes 3"),
        ("", "on_demand_floor = 4\nmax_nodes = 3", "on_demand_floor 4 is above max_nodes 3"),
        (', "eu-west-1a" = "subnet-2"', "", "zone eu-west-1a is not in region us-east-1"),
        (', "us-east-10a" = "subnet-2"', "", "zone us-east-10a is not in region us-east-1"),
    ],
)
def test_contradictions_in_a_fleet_are_refused(
    tmp_path: Path, zones: str, extra: str, expected: str
) -> None:
    (problem,) = _problems(tmp_path, FLEET_TOML.format(zones=zones, extra=extra))
    assert expected in problem


def test_a_local_zone_belongs_to_its_region(tmp_path: Path) -> None:
    path = tmp_path / "daemon.toml"
    text = FLEET_TOML.format(zones=', "us-west-2-lax-1a" = "subnet-2"', extra="")
    path.write_text(text.replace('"us-east-1a"', '"us-west-2a"') + '\nregion = "us-west-2"\n')
    assert load_settings(path, environ={}).fleets[0].region == "us-west-2"


def test_two_fleets_of_one_name_are_refused(tmp_path: Path) -> None:
    fleet = FLEET_TOML.format(zones="", extra="")
    (problem,) = _problems(tmp_path, fleet + fleet)
    assert problem == "settings: fleets: the name gen is declared more than once"


def test_an_unknown_environment_variable_is_refused_with_the_name_meant(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        "",
        {"SPOTFLEET_DAEMON_API_TOKN": "s3cret", "SPOTFLEET_DAEMON_SAFETY__CHURN": "1", "HOME": "/"},
    )
    assert problems == (
        "SPOTFLEET_DAEMON_API_TOKN: unknown environment variable; "
        "did you mean SPOTFLEET_DAEMON_API_TOKEN?",
        "SPOTFLEET_DAEMON_SAFETY__CHURN: unknown environment variable; "
        "did you mean SPOTFLEET_DAEMON_SAFETY__CHURN_PER_HOUR?",
    )
    assert not any("s3cret" in p for p in problems)


def test_a_bad_value_from_the_environment_names_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SPOTFLEET_DAEMON_SAFETY__STALE_AFTER_S", "soon")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    (problem,) = caught.value.problems
    assert problem.startswith(
        "safety.stale_after_s (from SPOTFLEET_DAEMON_SAFETY__STALE_AFTER_S): Input should be"
    )


def test_the_command_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text('api_port = "x"\n' + FLEET_TOML.format(zones="", extra="min_nodes = 11"))
    app = typer.Typer()
    register(app)
    app.command()(lambda: None)
    result = CliRunner().invoke(
        app, ["run", "--config", str(path)], env={"SPOTFLEET_DAEMON_MODEE": "pulumi"}
    )
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        "error: SPOTFLEET_DAEMON_MODEE: unknown environment variable; "
        "did you mean SPOTFLEET_DAEMON_MODE?"
    ]
    result = CliRunner().invoke(app, ["run", "--config", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: api_port: Input should be a valid")
    assert lines[1] == "error: fleets[0] ('gen'): min_nodes 11 is above max_nodes 10"
