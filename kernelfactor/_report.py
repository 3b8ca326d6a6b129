"""Tables for papers and terminals: markdown, LaTeX (booktabs) and CSV.

No numerics here: rows are results computed elsewhere (the rows of
:func:`kernelfactor.paper.survey`, or any objects with a ``to_dict()`` or mappings),
and this module only formats them.  LaTeX output needs ``\\usepackage{booktabs}``.
"""

from __future__ import annotations

import csv
import io
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._noise import NOISE_TEXT, significant
from ._results import Result
from ._typing import SupportsToDict
from ._validation import _check_choice, _describe

__all__ = [
    "SURVEY_COLUMNS",
    "TABLE_FORMATS",
    "Column",
    "format_table",
    "latex_escape",
    "text_table",
]

#: Values of ``fmt`` accepted by :func:`format_table`, sorted.
TABLE_FORMATS: tuple[str, ...] = ("csv", "latex", "markdown", "text")

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text.

    Examples
    --------
    >>> print(latex_escape("sobel_x & 50% {a}"))
    sobel\\_x \\& 50\\% \\{a\\}
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class Column(Result):
    """One table column.

    Attributes
    ----------
    key : str
        The field of a row (in its ``to_dict()``), also the CSV header.
    header : str
        Markdown / plain header; ``{tol}`` is replaced by the first row's
        ``max_rel_error``.
    latex : str
        LaTeX header (already LaTeX: not escaped); ``{tol}`` as in `header`.
    align : str
        ``"l"`` or ``"r"``.
    kind : str
        How values are written: ``"text"``, ``"int"``, ``"sci"`` (relative
        errors: at or below the row's ``rounding``, the noise floor, shown as
        ``0 (below tol)``; otherwise 3 significant digits, 6 in CSV),
        ``"count"``, ``"ratio"``, ``"shape"``.
    """

    key: str
    header: str
    latex: str
    align: str = "r"
    kind: str = "text"



#: The columns of the catalogue table (rows from :func:`kernelfactor.paper.survey`).
SURVEY_COLUMNS: tuple[Column, ...] = (
    Column("label", "Kernel", "Kernel", "l", "text"),
    Column("shape", "Size", "Size", "r", "shape"),
    Column("rank", "Rank", "Rank", "r", "int"),
    Column("exact_rank", "Exact rank", "Exact rank", "r", "int"),
    Column("sigma_ratio", "σ₂/σ₁", r"$\sigma_2/\sigma_1$", "r", "sci"),
    Column("rank1_error", "Rank-1 rel. error", "Rank-1 rel.\\ error", "r", "sci"),
    Column("full_mults", "Mults/px full", "Mults/px full", "r", "count"),
    Column("separable_mults", "Mults/px separable", "Mults/px separable", "r", "count"),
    Column("tol_rank", "Rank for error ≤ {tol}", r"Rank for error $\le {tol}$", "r", "int"),
    Column("tol_mults", "Mults/px at that rank", "Mults/px at that rank", "r", "count"),
    Column("speedup", "Speed-up", "Speed-up", "r", "ratio"),
    Column("tol_speedup", "Speed-up at that rank", "Speed-up at that rank", "r", "ratio"),
)


def _as_mapping(row: object, i: int) -> Mapping[str, object]:
    if isinstance(row, Mapping):
        return row
    if hasattr(row, "to_dict"):
        return row.to_dict()
    raise TypeError(
        f"`rows` must hold results with a `to_dict()` method or mappings; row {i} is "
        f"{_describe(row)}."
    )


def _sci(value: float, latex: bool) -> str:
    mant, _, exp = f"{value:.2e}".partition("e")
    e = int(exp)
    if -2 <= e <= 2:
        return f"{value:.3g}"
    if latex:
        return f"${mant}\\times10^{{{e}}}$"
    return f"{mant}e{e:+03d}"


def _cell(value: Any, kind: str, row: Mapping[str, object], fmt: str) -> str:
    # untyped on purpose: a cell is written by its column's kind, not its type (a "shape"
    # is unpacked, an "int" goes through int()); whatever a row holds serves if that works
    latex = fmt == "latex"
    if value is None:
        return "--" if latex else "\u2013"  # en dash
    if kind == "shape":
        m, n = value
        return f"${m}\\times{n}$" if latex else f"{m}\u00d7{n}"  # multiplication sign
    if kind == "int":
        return str(int(value))
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        v = float(value)
        if math.isinf(v):
            return r"$\infty$" if latex else "∞"
        if kind == "count":
            return f"{v:g}"
        if kind == "ratio":
            return f"{v:.2f}"
        if kind == "sci":
            if _is_noise(v, row):
                return NOISE_TEXT
            return _sci(v, latex)
        return f"{v:.4g}"
    text = str(value)
    return latex_escape(text) if latex else text


def _is_noise(value: float, row: Mapping[str, object]) -> bool:
    """At or below the row's noise floor (``rounding``; exact 0 without one)."""
    rounding = row.get("rounding")
    return value == 0.0 or (isinstance(rounding, numbers.Real) and abs(value) <= float(rounding))


def _csv_value(value: Any, kind: str, row: Mapping[str, object]) -> str:
    # untyped on purpose, as in _cell
    if value is None:
        return ""
    if kind == "shape":
        return "x".join(str(v) for v in value)
    if isinstance(value, float):
        if kind == "sci" and _is_noise(value, row):
            return NOISE_TEXT
        return repr(significant(value))
    if isinstance(value, (list, tuple, dict)):
        return repr(value)
    return str(value)


def _plain_number(value: object, digits: int = 4) -> str:
    """A compact number: ints with thousands separators, floats to `digits` figures."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):.{digits}g}"
    return str(value)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """An aligned plain-text table for terminals; `align` holds one 'l' or 'r' per column.

    Cells that are not strings are written by one rule: ints with thousands
    separators, floats to 4 significant digits, None as ``-``, bools as yes/no.

    Examples
    --------
    >>> print(text_table(["kernel", "rank"], [["sobel_x", 1], ["disk", 5]]))
    kernel   rank
    -------  ----
    sobel_x     1
    disk        5
    """
    cells = [[c if isinstance(c, str) else _plain_number(c) for c in row] for row in rows]
    ncol = len(headers)
    align = (align or "l" + "r" * (ncol - 1)).ljust(ncol, "r")
    widths = [max([len(headers[i])] + [len(r[i]) for r in cells]) for i in range(ncol)]

    def line(items: Sequence[str]) -> str:
        parts = [
            s.ljust(w) if a == "l" else s.rjust(w)
            for s, w, a in zip(items, widths, align, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _markdown_escape(text: str) -> str:
    return text.replace("|", r"\|")


def format_table(
    rows: Sequence[SupportsToDict | Mapping[str, object]],
    fmt: str = "markdown",
    *,
    columns: Sequence[Column] | None = None,
) -> str:
    """Format result rows as a markdown, LaTeX (booktabs) or CSV table.

    Parameters
    ----------
    rows : sequence
        Results with a ``to_dict()`` (e.g. :class:`kernelfactor.paper.KernelSurvey`)
        or mappings, one per table row.
    fmt : {"csv", "latex", "markdown", "text"}
        ``"markdown"``: a GitHub pipe table.  ``"latex"``: a ``tabular``
        with booktabs rules (``\\toprule``, ``\\midrule``, ``\\bottomrule``),
        special characters escaped.  ``"text"``: aligned plain text for a
        terminal (:func:`text_table`).  ``"csv"``: the column keys as header
        and the values to 6 significant digits (via :mod:`csv`).  Rounding
        noise (at or below a row's ``rounding``) is ``0 (below tol)`` in
        every format.
    columns : sequence of Column, optional
        Default: :data:`SURVEY_COLUMNS` when every row has those keys, else
        one text column per key of the first row.

    Returns
    -------
    str
        The table, ending with a newline.

    Examples
    --------
    >>> rows = [{"name": "sobel_x", "rank": 1}, {"name": "disk", "rank": 5}]
    >>> print(format_table(rows), end="")
    | name | rank |
    | :--- | ---: |
    | sobel_x | 1 |
    | disk | 5 |
    >>> print(format_table(rows, "latex"), end="")
    \\begin{tabular}{lr}
    \\toprule
    name & rank \\\\
    \\midrule
    sobel\\_x & 1 \\\\
    disk & 5 \\\\
    \\bottomrule
    \\end{tabular}
    """
    fmt = _check_choice(fmt, TABLE_FORMATS, "fmt")
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise TypeError(f"`rows` must be a sequence of results; got {_describe(rows)}.")
    dicts = [_as_mapping(row, i) for i, row in enumerate(rows)]
    if columns is None:
        keys = {c.key for c in SURVEY_COLUMNS}
        if dicts and all(keys <= set(d) for d in dicts):
            columns = SURVEY_COLUMNS
        elif dicts:
            columns = tuple(
                Column(k, k, latex_escape(k), "r" if _numeric(dicts[0][k]) else "l",
                       "int" if _integer(dicts[0][k]) else "text")
                for k in dicts[0]
            )
        else:
            raise ValueError("`rows` is empty; pass at least one row.")
    cols = tuple(columns)
    for i, d in enumerate(dicts):
        missing = [c.key for c in cols if c.key not in d]
        if missing:
            raise ValueError(
                f"`rows`: row {i} lacks the column key(s) {sorted(missing)}; "
                f"it has {sorted(d)}."
            )
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([c.key for c in cols])
        for d in dicts:
            writer.writerow([_csv_value(d[c.key], c.kind, d) for c in cols])
        return buf.getvalue()
    body = [[_cell(d[c.key], c.kind, d, fmt) for c in cols] for d in dicts]
    tol = dicts[0].get("max_rel_error") if dicts else None
    tol_text = "tol" if tol is None else f"{tol:g}"
    if fmt == "text":
        heads = [c.header.replace("{tol}", tol_text) for c in cols]
        return text_table(heads, body, "".join(c.align for c in cols)) + "\n"
    if fmt == "markdown":
        heads = [_markdown_escape(c.header.replace("{tol}", tol_text)) for c in cols]
        lines = ["| " + " | ".join(heads) + " |"]
        lines.append("| " + " | ".join(":---" if c.align == "l" else "---:" for c in cols) + " |")
        lines += ["| " + " | ".join(_markdown_escape(v) for v in r) + " |" for r in body]
        return "\n".join(lines) + "\n"
    spec = "".join(c.align for c in cols)
    lines = [f"\\begin{{tabular}}{{{spec}}}", r"\toprule"]
    heads = [c.latex.replace("{tol}", latex_escape(tol_text)) for c in cols]
    lines.append(" & ".join(heads) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(r) + r" \\" for r in body]
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def _numeric(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _integer(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)

