"""The recap's picture: kudos per day this week against last week, and the values people mentioned.

matplotlib is imported only when a chart is drawn (on the Agg backend, no screen), so a server that
never draws one does not carry it in memory.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

WIDTH_INCHES, HEIGHT_INCHES, DPI = 9.0, 3.4, 110
THIS_WEEK, LAST_WEEK, VALUES = "#2c5f2d", "#b7d3a8", "#e6a23c"


def recap_chart(
    *,
    day_labels: Sequence[str],
    this_week: Sequence[int],
    last_week: Sequence[int],
    values: Sequence[tuple[str, int]],
) -> bytes:
    """A PNG: two panels side by side (the values panel only when some were mentioned)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    panels = figure.subplots(1, 2 if values else 1, squeeze=False)[0]
    days = panels[0]
    positions = range(len(day_labels))
    days.bar([p - 0.2 for p in positions], last_week, width=0.4, color=LAST_WEEK, label="last week")
    days.bar([p + 0.2 for p in positions], this_week, width=0.4, color=THIS_WEEK, label="this week")
    days.set_xticks(list(positions), list(day_labels))
    days.set_title("Kudos per day", loc="left", fontsize=11)
    days.yaxis.get_major_locator().set_params(integer=True)
    days.legend(frameon=False, fontsize=9)
    for side in ("top", "right"):
        days.spines[side].set_visible(False)
    if values:
        mentioned = panels[1]
        names = [f"#{name}" for name, _ in reversed(values)]
        mentioned.barh(names, [count for _, count in reversed(values)], color=VALUES)
        mentioned.set_title("Values mentioned", loc="left", fontsize=11)
        mentioned.xaxis.get_major_locator().set_params(integer=True)
        for side in ("top", "right"):
            mentioned.spines[side].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
