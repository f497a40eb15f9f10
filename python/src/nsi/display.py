"""HTML for Jupyter: results, plans and diagnostics (the `_repr_html_` of each)."""
import numpy as np

from .errors import escape

_STYLE = ("<style>.nsi table{border-collapse:collapse;font-size:12px}"
          ".nsi td,.nsi th{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd}"
          ".nsi pre{font-size:12px;line-height:1.35;margin:4px 0}"
          ".nsi .error{color:#b00020;font-weight:bold}.nsi .warning{color:#9a6700;font-weight:bold}"
          ".nsi u.error{text-decoration:underline wavy #b00020;font-weight:normal;color:inherit}"
          ".nsi u.warning{text-decoration:underline wavy #9a6700;font-weight:normal;color:inherit}"
          ".nsi .dim{color:#777}</style>")


def _values(array, limit=6):
    flat = array.reshape(-1)
    shown = ", ".join(f"{x:.4g}" if array.dtype.kind == "f" else str(x) for x in flat[:limit].tolist())
    return shown + (", ..." if flat.size > limit else "")


def sparkline(values, width=120, height=18):
    """An inline SVG line of a short series, scaled to its minimum and maximum."""
    values = np.asarray(values, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    span = high - low or 1.0
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}" for i, v in enumerate(values))
    return (f'<svg width="{width}" height="{height}" role="img"><polyline fill="none" stroke="#1f77b4" '
            f'stroke-width="1.5" points="{points}"/></svg>')


def results_html(results):
    rows = []
    indexed = results.indexed()
    grouped = set()
    for base, indices in indexed.items():
        arrays = [results[f"{base}.{i}"] for i in indices]
        if len(arrays) > 1 and all(a.size == 1 for a in arrays) and indices == list(range(len(indices))):
            series = np.array([float(a.reshape(-1)[0]) for a in arrays])
            grouped.update(f"{base}.{i}" for i in indices)
            rows.append(f"<tr><td>{escape(base)}[0..{len(indices) - 1}]</td><td>{arrays[0].dtype}</td>"
                        f"<td>{len(indices)} values</td><td>{sparkline(series)} "
                        f"<span class='dim'>min {series.min():.4g} (at {int(series.argmin())}), "
                        f"max {series.max():.4g} (at {int(series.argmax())})</span></td></tr>")
    for name, array in results.items():
        if name in grouped:
            continue
        rows.append(f"<tr><td>{escape(name)}</td><td>{array.dtype}</td><td>{list(array.shape)}</td>"
                    f"<td><code>{escape(_values(array))}</code></td></tr>")
    facts = []
    for prompt in results.prompts[:4]:
        facts.append(f"<div><span class='dim'>prompt</span> {escape(repr(prompt))}</div>")
    for text in results.generated_text[:4]:
        facts.append(f"<div><span class='dim'>generated</span> {escape(repr(text))}</div>")
    return (f"<div class='nsi'>{_STYLE}<b>nsi results</b> <span class='dim'>({len(results)} saved)</span>"
            + "".join(facts)
            + "<table><tr><th>name</th><th>dtype</th><th>shape</th><th>values</th></tr>"
            + "".join(rows) + "</table></div>")


def plan_html(plan):
    return f"<div class='nsi'>{_STYLE}<pre>{escape(plan.dump())}</pre></div>"


def diagnostics_html(diagnostics, source, report):
    """Each diagnostic with its source lines and its range underlined; the plain report
    when the source is not known."""
    if source is None or not diagnostics:
        return f"<div class='nsi'>{_STYLE}<pre>{escape(report)}</pre></div>"
    lines = source.split("\n")
    parts = []
    for d in diagnostics:
        kind = "error" if d.severity == "error" else "warning"
        head = f"<span class='{kind}'>{kind}[{escape(d.code or '')}]</span>: {escape(d.message or '')}"
        where = f"<span class='dim'> --&gt; {escape(d.file or '')}:{d.line}:{d.column}</span>"
        body = []
        if d.line:
            end_line = d.end_line or d.line
            for number in range(d.line, min(end_line, len(lines)) + 1):
                text = lines[number - 1]
                start = d.column - 1 if number == d.line else 0
                stop = (d.end_column - 1) if number == end_line and d.end_column else len(text)
                stop = max(stop, start + 1) if number == d.line == end_line else stop
                marked = (escape(text[:start]) + f"<u class='{kind}'>" + escape(text[start:stop] or " ")
                          + "</u>" + escape(text[stop:]))
                body.append(f"<span class='dim'>{number:>4} |</span> {marked}")
        extra = [f"<span class='dim'>     = note:</span> {escape(n)}" for n in d.notes]
        if d.help:
            extra.append(f"<span class='dim'>     = help:</span> {escape(d.help)}")
        parts.append("<pre>" + "\n".join([head + where] + body + extra) + "</pre>")
    return f"<div class='nsi'>{_STYLE}" + "".join(parts) + "</div>"
