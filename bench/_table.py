"""The benchmark's figures and its markdown table.

Each figure is measured once per round; the table shows the best round (highest throughput,
lowest time, CPU and latency: what the machine does when nothing else disturbs it) except
memory, which shows the median. Ratios are wflow's figure over plain temporalio's in the same
run: for speed (throughput, replays per second) higher is better, for cost (CPU, memory,
time) lower is better.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence

from bench._workloads import SETTLED

__all__ = ["SCALING_VARIANTS", "Figures", "render"]

SCALING_VARIANTS: dict[str, tuple[str, bool]] = {
    "plain": ("plain", True),
    "plain_raw": ("plain", False),
    "py": ("py", True),
    "lua": ("lua", False),
}
"""Replay scaling is measured as shipped: column key -> (family, sandboxed)."""

COLUMNS = ("plain", "plain_raw", "py", "lua")
HEADINGS = (
    "plain temporalio, sandboxed",
    "plain temporalio, unsandboxed",
    "wflow Python DSL",
    "wflow Lua",
)


class Figures:
    """Measured values by (figure, column), one per round."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], list[float]] = defaultdict(list)

    def add(self, figure: str, column: str, value: float) -> None:
        self.values[(figure, column)].append(value)

    def best(self, figure: str, column: str, higher: bool = False) -> float | None:
        found = self.values.get((figure, column))
        if not found:
            return None
        if figure.startswith("memory"):
            return statistics.median(found)
        return max(found) if higher else min(found)


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, base: float | None, speed_from_time: bool) -> str:
    if value is None or base is None or value == 0 or base == 0:
        return "—"
    return f"{(base / value if speed_from_time else value / base):.2f}×"  # noqa: RUF001


def render(figures: Figures, scaling: Sequence[int]) -> str:
    """Return the table (markdown)."""
    rows: list[str] = [
        "| figure | " + " | ".join(HEADINGS) + " | Python DSL / plain | Lua / plain | ratio is |",
        "|---|" + "---:|" * (len(HEADINGS) + 2) + "---|",
    ]

    def row(
        label: str,
        cells: dict[str, float | None],
        scale: float,
        digits: int,
        base: str,
        kind: str,
        *,
        higher: bool = False,
    ) -> None:
        # kind: "speed" (value is a rate), "time" (ratio shown as speed), "cost".
        shown = [_fmt(None if cells.get(c) is None else cells[c] * scale, digits) for c in COLUMNS]  # type: ignore[operator]
        base_value = cells.get(base)
        ratios = [
            _ratio(cells.get(c), base_value, speed_from_time=kind == "time") for c in ("py", "lua")
        ]
        what = {"speed": "speed ↑", "time": "speed ↑", "cost": "cost ↓"}[kind]
        rows.append(
            f"| {label} | " + " | ".join(shown) + " | " + " | ".join(ratios) + f" | {what} |"
        )

    def get(figure: str, higher: bool = False) -> Callable[[str], float | None]:
        return lambda column: figures.best(figure, column, higher)

    at_once = get("throughput", True)
    row(
        "end-to-end throughput, workflows/s (all at once)",
        {c: at_once(c) for c in COLUMNS},
        1,
        0,
        "plain",
        "speed",
    )
    cpu = get("cpu")
    row("worker CPU per workflow, ms", {c: cpu(c) for c in COLUMNS}, 1000, 2, "plain", "cost")
    sb, raw = get("replay_sb"), get("replay_raw")
    row(
        "replay as shipped, CPU ms per replay",
        {"plain": sb("plain"), "plain_raw": raw("plain"), "py": sb("py"), "lua": raw("lua")},
        1000,
        2,
        "plain",
        "time",
    )
    row(
        "replay, all sandboxed, CPU ms per replay",
        {"plain": sb("plain"), "py": sb("py"), "lua": sb("lua")},
        1000,
        2,
        "plain",
        "time",
    )
    row(
        "replay, all unsandboxed, CPU ms per replay",
        {"plain_raw": raw("plain"), "py": raw("py"), "lua": raw("lua")},
        1000,
        2,
        "plain_raw",
        "time",
    )
    memory, settled = get("memory"), get("memory_settled")
    row(
        "memory per cached sleeping workflow, KiB (worker RSS), 1 s after they slept",
        {c: memory(c) for c in COLUMNS},
        1 / 1024,
        1,
        "plain",
        "cost",
    )
    row(
        f"memory per cached sleeping workflow, KiB (worker RSS), {SETTLED} s after "
        "(Lua states parked)",
        {c: settled(c) for c in COLUMNS},
        1 / 1024,
        1,
        "plain",
        "cost",
    )
    for n in scaling:
        per_call = get(f"scaling_{n}")
        row(
            f"replay as shipped, {n:,} calls: CPU µs per call",
            {c: per_call(c) for c in COLUMNS},
            1e6,
            0,
            "plain",
            "time",
        )
    for name, label in (("p50", "p50"), ("p95", "p95")):
        lat = get(name)
        row(
            f"latency of a one-call workflow, {label}, ms",
            {c: lat(c) for c in COLUMNS},
            1000,
            1,
            "plain",
            "cost",
        )
    reference = figures.best("startup", "import temporalio.client")
    for command in ("wflow --help", "import wflow", "wflow validate"):
        value = figures.best("startup", command)
        row(
            f"`{command}`, s (plain column: `import temporalio.client`)",
            {"plain": reference, "py": value, "lua": value},
            1,
            3,
            "plain",
            "cost",
        )
    return "\n".join(rows)
