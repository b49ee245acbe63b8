"""Loading a spot-traces collection folder and the replay price file (REPLAY.md, Inputs)."""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from analytics.errors import IngestError
from analytics.ingest.traces import TRACE_INSTANCE_TYPES as INSTANCE_TYPES
from analytics.ingest.traces import collection_start, read_trace
from analytics.pools import region_of_zone
from reconciler.core.errors import MarketDataError, WindowError
from reconciler.core.market import MarketSeries, PoolInfo

__all__ = [
    "INSTANCE_TYPES",
    "Prices",
    "TraceCollection",
    "TraceLengthWarning",
    "day_to_tick",
    "load_collection",
    "load_prices",
    "region_of_zone",
    "window_ticks",
]


class TraceLengthWarning(UserWarning):
    """Traces of one replay differ in length; all were cut to the shortest."""


def day_to_tick(day: float, gap_seconds: int, n_ticks: int) -> int:
    """REPLAY.md: a window day starts at ``floor(day x 86400 / gap)``, clipped to the trace."""
    return min(max(math.floor(day * 86400 / gap_seconds), 0), n_ticks)


@dataclass(frozen=True)
class TraceCollection:
    """The pools of one accelerator tag in one collection folder, ordered by file stem."""

    folder: Path
    tag: str
    stems: tuple[str, ...]
    zones: tuple[str, ...]
    gap_seconds: int
    capacity: npt.NDArray[np.int32]  # (pools, ticks)
    start: datetime  # tick 0, from the folder name (aws-MM-DD-YYYY), else the epoch

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(region_of_zone(z) for z in self.zones)

    @property
    def n_ticks(self) -> int:
        return int(self.capacity.shape[1])

    def pool_infos(self) -> tuple[PoolInfo, ...]:
        itype = INSTANCE_TYPES.get(self.tag, self.tag)
        return tuple(PoolInfo(region_of_zone(z), z, itype) for z in self.zones)

    def market(
        self, prices: Prices, advisor: dict[tuple[str, str], int] | None = None
    ) -> MarketSeries:
        """The collection as market series, priced as a replay charges it."""
        infos = self.pool_infos()
        spot = np.array([prices.spot_for(z) for z in self.zones], dtype=np.float64)
        bands = np.array(
            [
                float(advisor[(p.region, p.instance_type)])
                if advisor and (p.region, p.instance_type) in advisor
                else np.nan
                for p in infos
            ]
        )
        return MarketSeries(
            pools=infos,
            gap_seconds=self.gap_seconds,
            t0=self.start.timestamp(),
            capacity=self.capacity,
            spot_price=np.broadcast_to(spot[:, None], self.capacity.shape),
            on_demand_price=np.full(len(infos), prices.on_demand),
            advisor_band=bands,
        )


def _folder_start(folder: Path) -> datetime:
    """Tick 0 from the folder's name (aws-MM-DD-YYYY); the epoch for a folder without one."""
    try:
        return collection_start(folder).replace(tzinfo=UTC)
    except IngestError:
        return datetime(1970, 1, 1, tzinfo=UTC)


def _read_trace(path: Path) -> tuple[int, list[int]]:
    """The history store's reader and checks (it names the key that is wrong)."""
    try:
        trace = read_trace(path)
    except (IngestError, OSError) as exc:
        raise MarketDataError(
            f"{exc}; expected a spot-traces file: "
            '{"metadata": {"gap_seconds": G}, "data": [n0, n1, ...]}'
        ) from exc
    return trace.gap_seconds, trace.capacity.tolist()


def load_collection(folder: Path, accelerator: str | None = None) -> TraceCollection:
    """Read every ``*.json`` of ``folder`` for one accelerator tag (default: the first pool's)."""
    if not folder.is_dir():
        raise MarketDataError(f"no such folder: {folder} (a spot-traces collection, --traces)")
    files = sorted(folder.glob("*.json"), key=lambda p: p.stem)
    if not files:
        raise MarketDataError(
            f"{folder}: no *.json trace files; point --traces at a collection folder"
        )
    tags = [f.stem.split("_", 1)[1] if "_" in f.stem else "" for f in files]
    tag = accelerator if accelerator is not None else tags[0]
    chosen = [f for f, t in zip(files, tags, strict=True) if t == tag]
    if not chosen:
        raise MarketDataError(
            f"{folder}: no pool of accelerator {tag!r}; the folder has {sorted(set(tags))}"
        )
    gaps: set[int] = set()
    series: list[list[int]] = []
    for f in chosen:
        gap, data = _read_trace(f)
        gaps.add(gap)
        series.append(data)
    if len(gaps) != 1:
        raise MarketDataError(
            f"{folder}: traces of {tag} have different gap_seconds {sorted(gaps)}; "
            "one replay needs one tick length"
        )
    lengths = [len(s) for s in series]
    shortest = min(lengths)
    if shortest != max(lengths):
        warnings.warn(
            f"{folder}: traces of {tag} have lengths {min(lengths)}..{max(lengths)}; "
            f"all were cut to the shortest ({shortest} ticks)",
            TraceLengthWarning,
            stacklevel=2,
        )
    capacity = np.array([s[:shortest] for s in series], dtype=np.int32).reshape(
        len(series), shortest
    )
    return TraceCollection(
        folder=folder,
        tag=tag,
        stems=tuple(f.stem for f in chosen),
        zones=tuple(f.stem.split("_", 1)[0] for f in chosen),
        gap_seconds=gaps.pop(),
        capacity=capacity,
        start=_folder_start(folder),
    )


@dataclass(frozen=True, slots=True)
class Prices:
    """What a replay charges for one accelerator tag: on-demand $/h and spot $/h per zone."""

    tag: str
    instance_type: str
    on_demand: float
    spot: float
    zone_spot: dict[str, float]

    def spot_for(self, zone: str) -> float:
        return self.zone_spot.get(zone, self.spot)


def load_prices(path: Path, tag: str) -> Prices:
    """Read ``replay-prices.json`` for one accelerator tag."""
    if not path.is_file():
        raise MarketDataError(f"no such file: {path} (the replay price file, --prices)")
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
        acc = raw["accelerators"][tag]
        zones: dict[str, dict[str, float]] = raw.get("zones", {}) or {}
        return Prices(
            tag=tag,
            instance_type=str(acc["instance_type"]),
            on_demand=float(acc["on_demand"]),
            spot=float(acc["spot"]),
            zone_spot={z: float(v[tag]) for z, v in zones.items() if tag in v},
        )
    except KeyError as exc:
        raise MarketDataError(
            f"{path}: no prices for accelerator {tag!r} (missing key {exc}); add it under "
            '"accelerators" with instance_type, on_demand and spot'
        ) from exc
    except (OSError, ValueError, TypeError) as exc:
        raise MarketDataError(f"{path}: not a replay price file ({exc!r})") from exc


def window_ticks(
    n_ticks: int, gap_seconds: int, start_day: float | None, end_day: float | None
) -> tuple[int, int]:
    """The scored ticks ``start .. end-1`` of a window given in days (default: all)."""
    start = 0 if start_day is None else day_to_tick(start_day, gap_seconds, n_ticks)
    end = n_ticks if end_day is None else day_to_tick(end_day, gap_seconds, n_ticks)
    if end <= start:
        raise WindowError(
            f"the window days {start_day}..{end_day} select no tick (ticks {start}..{end} of "
            f"{n_ticks}, {gap_seconds} s each); choose days inside the traces' "
            f"{n_ticks * gap_seconds / 86400:.1f} days"
        )
    return start, end
