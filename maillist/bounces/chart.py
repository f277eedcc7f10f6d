"""A small bar chart of bounces and complaints per day, drawn as SVG on the server."""

from dataclasses import dataclass

WIDTH, HEIGHT, TOP, BOTTOM, LEFT = 720, 180, 10, 24, 36


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str
    label: str
    day: str = ""  # ISO date: the bar links to that day's events


def nice_ceiling(value):
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least `value`, for the axis top."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def daily_chart(series):
    """Geometry for the template: bars (bounces, complaints side by side), axis ticks, labels."""
    peak = nice_ceiling(max((max(c["bounce"], c["complaint"]) for _, c in series), default=0))
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(series), 1)
    bars, labels = [], []
    for index, (day, counts) in enumerate(series):
        for offset, kind in enumerate(("bounce", "complaint")):
            height = plot_height * counts[kind] / peak
            x = LEFT + index * slot + slot * (0.15 + 0.35 * offset)
            bars.append(Bar(round(x, 1), round(TOP + plot_height - height, 1), round(slot * 0.33, 1), round(height, 1),
                            kind, f"{day.isoformat()}: {counts[kind]} {kind}{'' if counts[kind] == 1 else 's'}", day.isoformat()))
        from_end = len(series) - 1 - index
        if from_end % 7 == 0:  # weekly labels, the last one on today
            anchor = "end" if from_end == 0 else "middle"
            x = LEFT + index * slot + (slot if from_end == 0 else slot / 2)
            labels.append((round(x, 1), day.strftime("%d %b"), anchor))
    fractions = (0, 0.5, 1) if peak % 2 == 0 else (0, 1)  # only whole-number ticks
    ticks = [(round(TOP + plot_height * (1 - fraction), 1), int(peak * fraction)) for fraction in fractions]
    total = sum(c["bounce"] + c["complaint"] for _, c in series)
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "labels": labels, "ticks": ticks, "left": LEFT,
            "baseline": HEIGHT - BOTTOM, "total": total, "series": series}
