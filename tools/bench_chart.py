"""Turn saved benchmark results into an SVG bar chart, without plotting libraries.

Reads a results file written by ``make bench`` (``benchmarks/results/latest.json``;
the layout is ``benchmarks/run.py``'s ``SCHEMA`` 1; by default the copy the
documentation shows, ``docs/assets/benchmarks.json``) and draws, for each table
whose rows compare contestants in one unit, a panel of horizontal bars: one
group per row, one bar per contestant, each labelled with its value.

    python tools/bench_chart.py [results.json] [-o chart.svg]

The documentation build calls :func:`render` to inline the chart into the
performance page, so the chart and the tables always come from the same run.
"""

from __future__ import annotations

import argparse
import json
from html import escape
from pathlib import Path
from typing import Any

__all__ = ["render", "main", "DEFAULT_RESULTS"]

DEFAULT_RESULTS = Path(__file__).resolve().parent.parent / "docs" / "assets" / "benchmarks.json"

#: Bar colours, by contestant position in a table; the first is "ours" when present.
PALETTE = ("#3f51b5", "#9e9e9e", "#ff9800", "#009688", "#e91e63", "#795548")
WIDTH, LABEL_W, BAR_H, GAP, PANEL_TITLE_H = 840, 320, 14, 10, 34


def _contestants(table: dict[str, Any]) -> list[str]:
    """Contestants in a stable order: ``ours`` first, ``floor`` last, the rest by name."""
    names = {name for row in table["rows"] for name in row.get("values", {})}
    rank = {"ours": 0, "floor": 2}
    return sorted(names, key=lambda n: (rank.get(n, 1), n))


def _chartable(table: dict[str, Any]) -> bool:
    """True when every row has numbers and the table has one unit (no "a / b" units)."""
    if "/" in table.get("unit", "") or not table.get("rows"):
        return False
    return all(isinstance(v, (int, float)) for row in table["rows"] for v in row.get("values", {}).values())


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def _panel(table: dict[str, Any], top: int) -> tuple[list[str], int]:
    contestants = _contestants(table)
    largest = max(v for row in table["rows"] for v in row["values"].values()) or 1.0
    span = WIDTH - LABEL_W - 90
    parts = [f'<text x="0" y="{top + 20}" font-weight="bold">{escape(table["title"])} ({escape(table["unit"])})</text>']
    y = top + PANEL_TITLE_H
    for row in table["rows"]:
        group_h = BAR_H * len(contestants)
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{y + group_h / 2 + 4:.0f}" text-anchor="end">{escape(row["name"])}</text>'
        )
        for index, name in enumerate(contestants):
            value = row["values"].get(name)
            if value is None:
                continue
            length = max(1.0, span * value / largest)
            colour = PALETTE[index % len(PALETTE)]
            parts.append(
                f'<rect x="{LABEL_W}" y="{y}" width="{length:.1f}" height="{BAR_H - 2}" fill="{colour}">'
                f"<title>{escape(name)}: {_number(value)}</title></rect>"
            )
            parts.append(
                f'<text x="{LABEL_W + length + 4:.1f}" y="{y + BAR_H - 4}" font-size="11">{_number(value)}</text>'
            )
            y += BAR_H
        y += GAP
    legend_x = LABEL_W
    for index, name in enumerate(contestants):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{legend_x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{legend_x + 16}" y="{y + 10}" font-size="12">{escape(name)}</text>')
        legend_x += 24 + 8 * len(name)
    return parts, y + 30


def render(results: dict[str, Any]) -> str:
    """The SVG document for a results record; raises ``ValueError`` if nothing is chartable."""
    parts: list[str] = []
    top = 0
    for bench in results.get("benches", []):
        for table in bench.get("tables", []):
            if _chartable(table):
                panel, top = _panel(table, top)
                parts.extend(panel)
    if not parts:
        raise ValueError("no benchmark table with plain numeric values to chart")
    caption = f"{results.get('implementation', '')} {results.get('python', '')}, commit {results.get('commit', '?')}"
    parts.append(f'<text x="0" y="{top}" font-size="11" fill="#666">{escape(caption.strip())}</text>')
    height = top + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'font-family="sans-serif" font-size="13" role="img" aria-label="benchmark results">'
        + "".join(parts)
        + "</svg>"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="?", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("-o", "--output", type=Path, default=Path("bench.svg"))
    args = parser.parse_args(argv)
    svg = render(json.loads(args.results.read_text(encoding="utf-8")))
    args.output.write_text(svg, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
