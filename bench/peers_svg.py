"""A line chart written as SVG text, with no plotting library (none is on the machine, and the
chart is small): one series per tool, one value per update, on a log scale, since the tools'
latencies differ by orders of magnitude."""
import math
from xml.sax.saxutils import escape

COLOURS = ("#1f6fc5", "#d1495b", "#2a9d5c", "#8c5fbf")
WIDTH, HEIGHT = 760, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 110


def _ms_label(v):
    return f"{v / 1000:g} s" if v >= 1000 else f"{v:g} ms"


def _decades(values):
    positive = [v for v in values if v > 0]
    lo = 10 ** math.floor(math.log10(min(positive)))
    hi = 10 ** math.ceil(math.log10(max(positive)))
    return lo, (hi * 10 if hi == lo else hi)


def write(path, title, xlabel, series):
    """Draws series [(name, [ms per update])] into the SVG file at path."""
    lo, hi = _decades([v for _, vs in series for v in vs])
    count = max(len(vs) for _, vs in series)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(i):
        return LEFT + plot_w * (i / (count - 1) if count > 1 else 0.5)

    def y(v):
        v = max(v, lo)
        return TOP + plot_h * (math.log10(hi) - math.log10(v)) / (math.log10(hi) - math.log10(lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>']
    decade = lo
    while decade <= hi * 1.0001:
        for step in (1, 2, 5):
            v = decade * step
            if v > hi * 1.0001:
                break
            major = step == 1
            out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                       f'stroke="{"#bbb" if major else "#e6e6e6"}"/>')
            out.append(f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" '
                       f'fill="{"#000" if major else "#777"}">{_ms_label(v)}</text>')
        decade *= 10
    for i in range(count):
        out.append(f'<text x="{x(i):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{i + 1}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 34}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#444"/>')
    for k, (name, values) in enumerate(series):
        colour = COLOURS[k % len(COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out += [f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for i, v in enumerate(values)]
        ly = TOP + plot_h + 56 + 18 * k
        out.append(f'<line x1="{LEFT}" x2="{LEFT + 24}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" stroke-width="3"/>')
        out.append(f'<text x="{LEFT + 32}" y="{ly}">{escape(name)}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
