"""Tests for kernelfactor._report: markdown, LaTeX (booktabs) and CSV tables."""

from __future__ import annotations

import csv
import io
import re

import pytest

from kernelfactor import paper
from kernelfactor.paper import SURVEY_COLUMNS, Column, latex_escape


@pytest.fixture(scope="module")
def rows():
    return paper.survey(["sobel_x", "laplacian4", "disk", "motion_blur", "gaussian_derivative"])


def _latex_rows(text: str) -> list[str]:
    body = text.split("\\midrule\n", 1)[1].split("\\bottomrule", 1)[0]
    return [line for line in body.splitlines() if line.strip()]


def test_latex_structure(rows):
    text = paper.format_table(rows, "latex")
    assert text.count("\\begin{tabular}") == text.count("\\end{tabular}") == 1
    assert text.index("\\begin{tabular}") < text.index("\\toprule") < text.index("\\midrule")
    assert text.index("\\midrule") < text.index("\\bottomrule") < text.index("\\end{tabular}")
    spec = re.search(r"\\begin\{tabular\}\{([lcr]+)\}", text)
    assert spec is not None
    ncols = len(spec.group(1))
    assert ncols == len(SURVEY_COLUMNS)
    lines = text.splitlines()
    header = lines[lines.index("\\toprule") + 1]
    body = _latex_rows(text)
    assert len(body) == len(rows)
    for line in [header, *body]:
        assert line.endswith("\\\\")
        # unescaped & only as column separators
        assert len(re.findall(r"(?<!\\)&", line)) == ncols - 1
    # braces balance and every $ opens and closes math
    assert text.count("{") - text.count("\\{") == text.count("}") - text.count("\\}")
    assert (text.count("$") - text.count("\\$")) % 2 == 0
    # underscores only inside math ($\sigma_2$) or escaped
    outside_math = re.sub(r"\$[^$]*\$", "", text)
    assert not re.search(r"(?<!\\)_", outside_math)
    assert "sobel\\_x" in text and "gaussian\\_derivative" in text


def test_latex_values(rows):
    body = _latex_rows(paper.format_table(rows, "latex"))
    sobel = body[0].split(" & ")
    assert sobel[0] == "sobel\\_x"
    assert sobel[1] == "$3\\times3$"
    assert sobel[4] == "0 (below tol)"  # sigma_2/sigma_1 at rounding level: noise
    motion = body[3].split(" & ")
    assert motion[3] == "1" and motion[4] == "--"  # exact rank 1, no sigma_2


def test_markdown_parses_back(rows):
    text = paper.format_table(rows, "markdown")
    lines = text.splitlines()
    cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
    assert cells[0][0] == "Kernel" and "Rank for error ≤ 0.001" in cells[0]
    assert all(c in (":---", "---:") for c in cells[1])
    assert all(len(c) == len(SURVEY_COLUMNS) for c in cells)
    by_name = {c[0]: c for c in cells[2:]}
    assert list(by_name) == [r.label for r in rows]
    lap = by_name["laplacian4"]
    assert lap[1] == "3\u00d73" and lap[2] == "2" and lap[3] == "2"
    assert float(lap[5]) == pytest.approx(rows[1].rank1_error, rel=1e-2)
    assert lap[-2] == "0.75"
    assert by_name["disk"][3] == "\u2013"  # en dash: no exact form


def test_csv_parses_back(rows):
    text = paper.format_table(rows, "csv")
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [p["label"] for p in parsed] == [r.label for r in rows]
    for p, r in zip(parsed, rows, strict=True):
        assert p["shape"] == f"{r.shape[0]}x{r.shape[1]}"
        assert int(p["rank"]) == r.rank
        if r.rank1_error == 0.0:  # rounding noise is written as such, never as digits
            assert p["rank1_error"] == "0 (below tol)"
        else:  # 6 significant digits, as stored
            assert float(p["rank1_error"]) == r.rank1_error
        assert float(p["speedup"]) == r.speedup
        assert p["exact_rank"] == ("" if r.exact_rank is None else str(r.exact_rank))


def test_generic_rows_and_columns():
    rows = [{"name": "a_b", "value": 1.5}, {"name": "c", "value": 2.0}]
    md = paper.format_table(rows)
    assert md.splitlines()[2] == "| a_b | 1.5 |"
    tex = paper.format_table(rows, "latex", columns=[Column("name", "Name", "Name", "l")])
    assert "a\\_b \\\\" in tex and "\\begin{tabular}{l}" in tex
    assert paper.format_table(rows, "csv").splitlines() == ["name,value", "a_b,1.5", "c,2.0"]


def test_markdown_escapes_pipes():
    assert "a\\|b" in paper.format_table([{"x": "a|b"}])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("a_b", "a\\_b"), ("50%", "50\\%"), ("x&y", "x\\&y"), ("#1", "\\#1"),
     ("~", "\\textasciitilde{}"), ("a\\b", "a\\textbackslash{}b"), ("{}", "\\{\\}"),
     ("$", "\\$"), ("^", "\\textasciicircum{}")],
)
def test_latex_escape(text, expected):
    assert latex_escape(text) == expected


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([{"a": 1}], "html"), {}, ValueError, "`fmt` must be one of 'csv', 'latex', 'markdown'"),
        (([],), {}, ValueError, "empty"),
        (("abc",), {}, TypeError, "`rows`"),
        (([object()],), {}, TypeError, "row 0"),
        (([{"a": 1}, {"b": 2}],), {}, ValueError, "row 1 lacks"),
    ],
)
def test_errors(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        paper.format_table(*args, **kwargs)
