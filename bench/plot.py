#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Turn the CSV written by `slab_list_latency --csv FILE` into SVG charts.

One SVG per metric (insert, find, erase, iterate, nth ns/op; bytes/element
after inserts and after erasing half): value against N on a log axis, one
line per container and key order (solid: random keys, dashed: ascending),
with a thin bar from the fastest to the slowest round at each point.

Python 3 standard library only:
    python3 bench/plot.py results.csv --out bench/results
"""

import argparse
import csv
import math
import os
import sys
from collections import defaultdict
from xml.sax.saxutils import escape

# (metric, title, unit, log y axis): times span three decades between the
# contenders, so they get a log axis; bytes/element stay linear.
METRICS = [
    ("insert_ns", "insert", "ns/op", True),
    ("find_ns", "find (hits, random order)", "ns/op", True),
    ("erase_ns", "erase (half the keys)", "ns/op", True),
    ("iterate_ns", "full iteration", "ns/element", True),
    ("nth_ns", "nth(i), random i", "ns/op", True),
    ("bytes_per_elem", "memory after inserting N", "bytes/element", False),
    ("bytes_per_live_elem_half", "memory after erasing half",
     "bytes/live element", False),
]

# Stable colours per container; unknown containers cycle through the rest.
COLOURS = {
    "nexus::slab_list": "#d62728",
    "nexus::slab_list + shrink_to_fit": "#ff9896",
    "absl::btree_set": "#1f77b4",
    "std::set": "#7f7f7f",
}
SPARE_COLOURS = ["#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]

WIDTH, HEIGHT = 880, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 330, 50, 60


def read_csv(path):
    """Returns {metric: {(container, order): [(n, median, lo, hi)]}}."""
    data = defaultdict(lambda: defaultdict(list))
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            point = (int(row["n"]), float(row["median"]), float(row["min"]),
                     float(row["max"]))
            data[row["metric"]][(row["container"], row["order"])].append(point)
    for series in data.values():
        for points in series.values():
            points.sort()
    return data


def nice_ceiling(v):
    """Smallest 1/2/2.5/5 x 10^k that is >= v (axis top)."""
    if v <= 0:
        return 1.0
    exp = math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** exp >= v:
            return m * 10 ** exp
    return 10 ** (exp + 1)


def fmt_n(n):
    """SVG text for N: 10 with a superscript exponent for powers of ten."""
    e = math.log10(n) if n > 0 else 0
    if abs(e - round(e)) < 1e-9 and e >= 3:
        return '10<tspan dy="-6" font-size="9">%d</tspan>' % round(e)
    return escape("{:,}".format(n))


def log_ticks(lo, hi):
    """1-2-5 ticks covering [lo, hi] on a log axis, and the axis limits."""
    lo_e = math.floor(math.log10(lo))
    hi_e = math.ceil(math.log10(hi))
    ticks = [m * 10 ** e for e in range(lo_e, hi_e + 1) for m in (1, 2, 5)]
    start = max([t for t in ticks if t <= lo] or [ticks[0]])
    stop = min([t for t in ticks if t >= hi] or [ticks[-1]])
    return [t for t in ticks if start <= t <= stop], start, stop


def fmt_tick(v):
    return ("%g" % v) if v < 10000 else "{:,.0f}".format(v)


def chart(title, unit, series, colours, log_y):
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    ns = sorted({p[0] for pts in series.values() for p in pts})
    values = [v for pts in series.values() for p in pts for v in p[1:]]
    log_y = log_y and min(values) > 0
    if log_y:
        yticks, ymin, ymax = log_ticks(min(values), max(values))
    else:
        ymin, ymax = 0.0, nice_ceiling(max(values))
        yticks = [ymax * i / 5 for i in range(6)]
    lx0, lx1 = math.log10(ns[0]), math.log10(ns[-1])
    if lx1 - lx0 < 1e-9:  # a single N: centre it
        lx0, lx1 = lx0 - 0.5, lx1 + 0.5
    pad = 0.05 * (lx1 - lx0)
    lx0, lx1 = lx0 - pad, lx1 + pad

    def x(n):
        return LEFT + (math.log10(n) - lx0) / (lx1 - lx0) * plot_w

    def y(v):
        if log_y:
            frac = ((math.log10(v) - math.log10(ymin)) /
                    (math.log10(ymax) - math.log10(ymin)))
        else:
            frac = (v - ymin) / (ymax - ymin)
        return TOP + plot_h - frac * plot_h

    out = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
        'viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">'
        % (WIDTH, HEIGHT, WIDTH, HEIGHT),
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>'
        % (LEFT, escape("%s — %s (uint64_t keys%s)"
                        % (title, unit, ", log scale" if log_y else ""))),
    ]
    # Horizontal grid and y ticks.
    for v in yticks:
        yy = y(v)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>'
                   % (LEFT, yy, LEFT + plot_w, yy))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>'
                   % (LEFT - 6, yy + 4, fmt_tick(v)))
    # X ticks at each measured N.
    for n in ns:
        xx = x(n)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>'
                   % (xx, TOP, xx, TOP + plot_h))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                   % (xx, TOP + plot_h + 18, fmt_n(n)))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" '
               'stroke="#333"/>' % (LEFT, TOP, plot_w, plot_h))
    out.append('<text x="%d" y="%d" text-anchor="middle">N (elements)</text>'
               % (LEFT + plot_w // 2, HEIGHT - 18))
    out.append('<text transform="translate(18,%d) rotate(-90)" '
               'text-anchor="middle">%s</text>'
               % (TOP + plot_h // 2, escape(unit)))

    legend_y = TOP + 8
    def legend_order(item):
        (container, order), _ = item
        known = list(COLOURS)
        rank = known.index(container) if container in known else len(known)
        return (rank, container, order != "random")

    for (container, order), pts in sorted(series.items(), key=legend_order):
        colour = colours[container]
        dash = ' stroke-dasharray="6,4"' if order == "ascending" else ""
        path = " ".join("%s%.1f,%.1f" % ("M" if i == 0 else "L", x(n), y(v))
                        for i, (n, v, _, _) in enumerate(pts))
        out.append('<path d="%s" fill="none" stroke="%s" stroke-width="2"%s/>'
                   % (path, colour, dash))
        for n, v, lo, hi in pts:
            out.append('<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" '
                       'stroke="%s" stroke-width="1"/>'
                       % (x(n), y(lo), x(n), y(hi), colour))
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s">'
                       '<title>%s</title></circle>'
                       % (x(n), y(v), colour,
                          escape("%s, %s, N=%d: %.2f %s"
                                 % (container, order, n, v, unit))))
        lx = LEFT + plot_w + 14
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" '
                   'stroke-width="2"%s/>'
                   % (lx, legend_y, lx + 24, legend_y, colour, dash))
        out.append('<text x="%d" y="%d">%s</text>'
                   % (lx + 30, legend_y + 4,
                      escape("%s (%s)" % (container, order))))
        legend_y += 20
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("csv", help="CSV from slab_list_latency --csv")
    ap.add_argument("--out", default="bench/results",
                    help="output directory (default bench/results)")
    ap.add_argument("--prefix", default="slab_list_",
                    help="file name prefix (default slab_list_)")
    ap.add_argument("--linear", action="store_true",
                    help="linear time axes (default: log)")
    args = ap.parse_args(argv)

    data = read_csv(args.csv)
    # Show what slab_list keeps after shrink_to_fit() beside its mapped size
    # after erasing half (it keeps freed slabs mapped until asked).
    shrunk = data.pop("bytes_per_live_elem_half_shrunk", {})
    for (container, order), pts in shrunk.items():
        data["bytes_per_live_elem_half"][
            (container + " + shrink_to_fit", order)] = pts
    containers = sorted({c for s in data.values() for (c, _) in s})
    colours, spare = {}, iter(SPARE_COLOURS * 4)
    for c in containers:
        colours[c] = COLOURS.get(c) or next(spare)

    os.makedirs(args.out, exist_ok=True)
    written = 0
    for metric, title, unit, log_y in METRICS:
        series = data.get(metric)
        if not series:
            continue
        path = os.path.join(args.out, "%s%s.svg" % (args.prefix, metric))
        with open(path, "w") as f:
            f.write(chart(title, unit, series, colours,
                          log_y and not args.linear))
        print(path)
        written += 1
    if written == 0:
        print("no known metrics in %s" % args.csv, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
