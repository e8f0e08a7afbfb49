"""Small bar charts as inline SVG, drawn on the server (no chart library, no script)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"


def bar_chart(
    values: Sequence[float],
    labels: Sequence[str],
    *,
    title: str,
    unit: str = "",
    width: int = 320,
    height: int = 80,
) -> Markup:
    """A bar per value, scaled to the largest; each bar's tooltip is its label and value.

    The SVG scales to its container (``viewBox``), so it fits a phone's width.
    """
    if not values:
        return Markup(f'<p class="muted">{escape(title)}: no data yet</p>')
    top = max(max(values), 1e-9)
    step = width / len(values)
    gap = min(2.0, step * 0.2)
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = max(1.0, (height - 14) * value / top) if value > 0 else 0.0
        x, y = i * step, height - h
        tip = escape(f"{label}: {_number(value)} {unit}".strip())
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(step - gap, 0.5):.1f}" '
            f'height="{h:.1f}"><title>{tip}</title></rect>'
        )
    caption = escape(f"{title} (max {_number(top)} {unit})".replace("  ", " ").strip())
    return Markup(
        f'<figure class="chart"><svg viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{caption}" preserveAspectRatio="none">{"".join(bars)}</svg>'
        f"<figcaption>{caption}</figcaption></figure>"
    )
