"""Geometry for the dashboard's small server-rendered SVG charts (no JavaScript, no library):
the template draws what these pure functions compute."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

COLORS = ("#2f6fde", "#e07b39", "#1f8a4c", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d")
SOURCES = ("model", "human", "simulated")  # who labeled: always in this order and colour


def source_order(name: str) -> tuple[int, str]:
    return (SOURCES.index(name) if name in SOURCES else len(SOURCES), name)


def label_bars(distribution: dict[str, int], *, width: int = 560) -> dict[str, Any]:
    """Bars of a horizontal chart: label, count, share and geometry."""
    total = sum(distribution.values())
    top = max(distribution.values(), default=0)
    label_width, bar_room, row = 150, width - 150 - 90, 28
    bars = []
    for i, (label, count) in enumerate(sorted(distribution.items(), key=lambda kv: -kv[1])):
        bars.append({"label": label, "count": count,
                     "share": count / total if total else 0.0,
                     "y": i * row, "width": round(bar_room * count / top, 1) if top else 0,
                     "color": COLORS[i % len(COLORS)]})
    return {"bars": bars, "width": width, "height": max(row, row * len(bars)),
            "label_width": label_width, "total": total}


def columns(values: Sequence[float | None], labels: Sequence[str], *, width: int = 560,
            height: int = 140, top: float | None = None, percent: bool = False,
            ) -> dict[str, Any]:
    """A column chart (one column per bucket; None draws no column) with its axis labels."""
    pad_left, pad_bottom = 40, 18
    room_w, room_h = width - pad_left, height - pad_bottom - 6
    present = [v for v in values if v is not None]
    scale = top if top is not None else max(present, default=0) or 1
    step = room_w / max(1, len(values))
    cols = []
    for i, value in enumerate(values):
        if value is None:
            continue
        h = round(room_h * value / scale, 1)
        cols.append({"x": round(pad_left + i * step + 1, 1), "y": round(6 + room_h - h, 1),
                     "width": round(max(1.0, step - 2), 1), "height": h,
                     "title": f"{labels[i]}: " + (f"{value:.0%}" if percent else f"{value:g}")})
    return {"width": width, "height": height, "columns": cols, "left": pad_left,
            "bottom": height - pad_bottom, "top_label": f"{scale:.0%}" if percent else f"{scale:g}",
            "first": labels[0] if labels else "", "last": labels[-1] if labels else "",
            "empty": not present}


def stacked_share(parts: dict[str, int], *, width: int = 560) -> dict[str, Any]:
    """One horizontal bar split by share (e.g. labels made by the model vs by people)."""
    total = sum(parts.values())
    x, segments = 0.0, []
    for i, (name, count) in enumerate(sorted(parts.items(), key=lambda kv: source_order(kv[0]))):
        w = width * count / total if total else 0.0
        segments.append({"name": name, "count": count, "share": count / total if total else 0,
                         "x": round(x, 1), "width": round(w, 1),
                         "color": COLORS[i % len(COLORS)]})
        x += w
    return {"width": width, "segments": segments, "total": total}


def stacked_columns(history: Sequence[dict[str, Any]], *, width: int = 560,
                    height: int = 150) -> dict[str, Any]:
    """Columns of shares (each column 100 %, split by part, e.g. model / human / simulated),
    one per step of ``history`` ([{"commit", "parts": {name: count}}])."""
    names: list[str] = []
    for step in history:
        names += [name for name in step["parts"] if name not in names]
    names.sort(key=source_order)
    pad_bottom, room = 18, height - 18 - 4
    step_w = (width - 10) / max(1, len(history))
    cols = []
    for i, step in enumerate(history):
        total = sum(step["parts"].values()) or 1
        y = 4.0 + room
        for j, name in enumerate(names):
            count = step["parts"].get(name, 0)
            h = room * count / total
            y -= h
            cols.append({"x": round(10 + i * step_w + 1, 1), "y": round(y, 1),
                         "width": round(max(1.0, step_w - 3), 1), "height": round(h, 1),
                         "color": COLORS[j % len(COLORS)],
                         "title": f"{step['commit']}: {name} {count} ({count / total:.0%})"})
    return {"width": width, "height": height, "rects": cols, "bottom": height - pad_bottom,
            "legend": [{"name": n, "color": COLORS[j % len(COLORS)]}
                       for j, n in enumerate(names)],
            "first": history[0]["commit"] if history else "",
            "last": history[-1]["commit"] if history else ""}
