"""Exact and symbolic separability: rational rank and factors, conditions, f(x, y).

A kernel is separable with rank ``r`` when it is a sum of ``r`` outer products
of a column and a row.  This module answers that question *exactly*:

* :func:`exact_rank` / :func:`exact_factor` for integer, rational, float
  (converted exactly) and symbolic matrices;
* :func:`separability_conditions`: for which parameter values the rank of a
  parametric kernel drops to ``<= r``;
* :func:`function_rank`: the separable rank of an analytic kernel ``f(x, y)``.

sympy and python-flint are imported inside the functions, so that
``import kernelfactor`` stays free of both.

How answers are obtained (``method`` fields of the results):

* rational matrices: the rows are scaled to integers (row scaling keeps the
  rank); with python-flint the rank is ``fmpz_mat.rank()``; without it the
  rank modulo a prime ``p`` gives a proven lower bound (a non-zero minor
  modulo ``p`` is non-zero over the integers) and an exact integer check that
  the Schur complement of the pivot block vanishes gives the matching upper
  bound.  When the check fails (an unlucky prime) sympy's fraction-free
  ``DomainMatrix.rref_den`` decides.  No float tolerance is ever used.
* parametric matrices: the same pivot-and-certificate scheme over the
  polynomial ring / rational-function field (sympy ``DomainMatrix``), with the
  pivots found at a random integer point.  The rank is the *generic* rank, the
  rank over the field of rational functions of the parameters.
* transcendental entries: ``sin``, ``cos``, ``tan`` and the hyperbolic
  functions are rewritten with ``exp``; every ``exp(c * m)`` (``c`` rational)
  becomes an integer power of a new symbol ``q = exp(m / L)``; any other
  non-rational sub-expression becomes a new generic symbol.  The rewritten
  matrix equals the original one as a function, so a vanishing minor of it
  *proves* a vanishing minor of the original (an upper bound).  The lower
  bound is proven by evaluating the pivot minor of the original matrix at a
  random point with interval arithmetic (mpmath ``iv``, 50 digits).  When
  that fails the result says ``decided=False`` -- a rank is never reported
  as exact on the strength of sympy's ``EX`` domain alone.
"""

from __future__ import annotations

import ast
import difflib
import gc
import io
import itertools
import math
import numbers
import random
import sys
import threading
import time
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import combinations
from typing import Any, Literal, NamedTuple, overload

import numpy as np

from ._docstrings import docfiller
from ._results import Result
from ._validation import _check_choice, _check_positive_int, _check_rank, _describe

__all__ = [
    "DEFAULT_TIME_LIMIT",
    "EXPRESSION_CONSTANTS",
    "EXPRESSION_FUNCTIONS",
    "ExactFactorization",
    "ExactRank",
    "ExactTensorFactorization",
    "FactorTerm",
    "FunctionRank",
    "SeparabilityConditions",
    "TensorFactorTerm",
    "exact_factor",
    "exact_rank",
    "function_rank",
    "parse_expression",
    "separability_conditions",
]

#: A prime below 2**31: products of two residues fit in int64.
_PRIME = 2_147_483_647
_BACKENDS = ("auto", "flint", "sympy")
_FLOAT_POLICIES = ("error", "exact")
_DPS = 50  # digits of the interval-arithmetic certificates


# --------------------------------------------------------------------------- results


class FactorTerm(NamedTuple):
    """One term ``scale * column @ row.T`` of an exact rank decomposition."""

    scale: Any
    column: tuple[Any, ...]
    row: tuple[Any, ...]


class ExactRank(int):
    """The result of :func:`exact_rank`: an ``int`` that knows whether it is generic.

    For a kernel without parameters it is a plain exact rank (``repr`` as an
    int).  For a kernel with parameters (free symbols) it is the *generic*
    rank, the rank for all parameter values except those on a proper
    algebraic subset, where it can be lower: ``generic`` is True,
    ``parameters`` names them and the ``repr`` says so and points to
    :func:`kernelfactor.separability_conditions`, which gives those values.

    Attributes
    ----------
    generic : bool
    parameters : tuple of str
    """

    generic: bool
    parameters: tuple[str, ...]

    def __new__(cls, value: int, parameters: tuple[str, ...] = ()) -> ExactRank:
        obj = super().__new__(cls, value)
        obj.parameters = tuple(parameters)
        obj.generic = bool(parameters)
        return obj

    def __repr__(self) -> str:
        if not self.generic:
            return int.__repr__(self)
        return (
            f"ExactRank({int(self)}, generic in {', '.join(self.parameters)}: special values "
            "can lower it, see kernelfactor.separability_conditions)"
        )

    def __reduce__(self) -> Any:
        return (ExactRank, (int(self), self.parameters))


def _s(value: Any) -> Any:
    """JSON-ready form of a scalar: int for integers, str otherwise."""
    if isinstance(value, int):
        return value
    if getattr(value, "is_Integer", False):
        return int(value)
    return str(value)


def _decision(res: ExactFactorization | ExactTensorFactorization) -> dict[str, object]:
    """The leading keys of an exact factorisation's :meth:`to_dict`."""
    return {"rank": res.rank, "decided": res.decided, "rank_bounds": list(res.rank_bounds),
            "shape": list(res.shape)}


@dataclass(frozen=True, repr=False)
class ExactFactorization(Result):
    """An exact rank decomposition ``K = sum_i scale_i * column_i @ row_i.T``.

    Attributes
    ----------
    terms : tuple of FactorTerm
        For rational kernels ``column`` and ``row`` are primitive integer
        vectors (gcd 1, first non-zero entry positive) and ``scale`` a sympy
        Rational.  For symbolic kernels they are sympy expressions, the vectors
        made primitive over the polynomials in the parameters.
    shape : tuple of int
        The kernel's shape ``(m, n)``.
    decided : bool
        True when ``len(terms)`` is proven to be the rank.  False only for
        transcendental kernels whose lower bound could not be certified; the
        terms are then still an exact decomposition, possibly not minimal.
    rank_bounds : tuple of int
        Proven ``(lower, upper)`` bounds of the rank (equal when decided).
    domain : str
        Where the computation ran, e.g. ``"ZZ"``, ``"QQ"``, ``"ZZ[a,b]"``.
    method : str
        How the rank was proven.
    substitutions : tuple of (str, str)
        New symbols introduced for transcendental entries and what they stand for.
    parameters : tuple of str
        The free symbols of the kernel.  When there are any, the rank is the
        *generic* rank (see :attr:`generic`).
    limit : str
        Empty, or which work limit cut the computation off (then ``decided``
        is False) and how to raise it.
    """

    terms: tuple[FactorTerm, ...]
    shape: tuple[int, int]
    decided: bool
    rank_bounds: tuple[int, int]
    domain: str
    method: str
    substitutions: tuple[tuple[str, str], ...] = ()
    parameters: tuple[str, ...] = ()
    limit: str = ""

    @property
    def generic(self) -> bool:
        """True when the kernel has parameters: the rank is then their *generic* rank.

        Special parameter values can have a lower rank; see
        :func:`kernelfactor.separability_conditions`.
        """
        return bool(self.parameters)

    @property
    def rank(self) -> int | None:
        """The rank, or None when it is not decided (see ``rank_bounds``)."""
        return len(self.terms) if self.decided else None

    def to_matrix(self) -> Any:
        """The sympy Matrix ``sum_i scale_i * column_i @ row_i.T``."""
        import sympy as sp

        out = sp.zeros(*self.shape)
        for t in self.terms:
            out += t.scale * sp.Matrix(t.column) * sp.Matrix([list(t.row)])
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            **_decision(self),
            "domain": self.domain,
            "method": self.method,
            "substitutions": [list(p) for p in self.substitutions],
            "generic": self.generic,
            "parameters": list(self.parameters),
            "limit": self.limit or None,
            "terms": [
                {
                    "scale": _s(t.scale),
                    "column": [_s(v) for v in t.column],
                    "row": [_s(v) for v in t.row],
                }
                for t in self.terms
            ],
        }

    def __repr__(self) -> str:
        rank = self.rank if self.decided else f"undecided in {list(self.rank_bounds)}"
        generic = ""
        if self.generic:
            generic = (
                f", generic in {', '.join(self.parameters)} (special values can lower it: "
                "see separability_conditions)"
            )
        return (
            f"ExactFactorization(rank={rank}{generic}, shape={self.shape}, "
            f"domain={self.domain!r}, method={self.method!r})"
        )

    def __str__(self) -> str:
        lines = [repr(self)]
        for i, t in enumerate(self.terms):
            col = ", ".join(str(v) for v in t.column)
            row = ", ".join(str(v) for v in t.row)
            lines.append(f"  term {i}: {t.scale} * [{col}]^T [{row}]")
        for sym, meaning in self.substitutions:
            lines.append(f"  where {sym} = {meaning}")
        return "\n".join(lines)


class TensorFactorTerm(NamedTuple):
    """One term ``scale * f_0 (x) f_1 (x) ... (x) f_{d-1}`` of an exact n-D decomposition."""

    scale: object
    factors: tuple[tuple[object, ...], ...]


@dataclass(frozen=True, repr=False)
class ExactTensorFactorization(Result):
    """An exact decomposition of a d-D kernel, ``K = sum_i scale_i f_i0 (x) ... (x) f_i(d-1)``.

    See :func:`exact_factor` with ``ndim=d``.

    Attributes
    ----------
    terms : tuple of TensorFactorTerm
        Each ``factors`` holds ``d`` vectors: primitive integer vectors (gcd 1,
        first non-zero entry positive) for rational kernels, primitive over the
        ring of the entries otherwise (Gaussian integers for Q(i), polynomials
        for parameters); ``scale`` an exact number.
    shape : tuple of int
    multilinear_rank : tuple of int
        The exact rank of every unfolding (axis ``k`` against the others).
    decided : bool
        True when ``len(terms)`` is proven to be the tensor rank: always for
        rank 0 and 1 (separable: every unfolding has rank <= 1), and when the
        terms are as few as the largest unfolding rank.
    rank_bounds : tuple of int
        Proven ``(lower, upper)``: the largest unfolding rank, and the number
        of terms found.
    domain : str
        Where the entries live, e.g. ``"ZZ"``, ``"QQ"``, ``"ZZ_I"``, ``"ZZ[a]"``.
    method : str
        How the terms and the bounds were obtained.
    parameters : tuple of str
        Free symbols: then the rank is the generic one.
    limit : str
        Empty, or which work limit cut the computation off (``decided`` False).
    """

    terms: tuple[TensorFactorTerm, ...]
    shape: tuple[int, ...]
    multilinear_rank: tuple[int, ...]
    decided: bool
    rank_bounds: tuple[int, int]
    domain: str
    method: str
    parameters: tuple[str, ...] = ()
    limit: str = ""

    @property
    def generic(self) -> bool:
        """True when the kernel has parameters (the rank is their generic rank)."""
        return bool(self.parameters)

    @property
    def rank(self) -> int | None:
        """The tensor rank, or None when it is not decided (see ``rank_bounds``)."""
        return len(self.terms) if self.decided else None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def to_array(self) -> Any:
        """The sympy array ``sum_i scale_i f_i0 (x) ... (x) f_i(d-1)``."""
        import sympy as sp

        out = sp.MutableDenseNDimArray.zeros(*self.shape)
        for t in self.terms:
            term = sp.Array([sp.sympify(t.scale) * sp.sympify(v) for v in t.factors[0]])
            for f in t.factors[1:]:
                term = sp.tensorproduct(term, sp.Array(f))
            out += term
        return sp.ImmutableDenseNDimArray(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            **_decision(self),
            "multilinear_rank": list(self.multilinear_rank),
            "domain": self.domain,
            "method": self.method,
            "generic": self.generic,
            "parameters": list(self.parameters),
            "limit": self.limit or None,
            "terms": [
                {"scale": _s(t.scale), "factors": [[_s(v) for v in f] for f in t.factors]}
                for t in self.terms
            ],
        }

    def __repr__(self) -> str:
        rank = self.rank if self.decided else f"undecided in {list(self.rank_bounds)}"
        generic = f", generic in {', '.join(self.parameters)}" if self.generic else ""
        return (
            f"ExactTensorFactorization(rank={rank}{generic}, shape={self.shape}, "
            f"multilinear_rank={self.multilinear_rank}, domain={self.domain!r}, "
            f"{len(self.terms)} terms)"
        )

    def __str__(self) -> str:
        lines = [repr(self)]
        for i, t in enumerate(self.terms):
            vecs = " (x) ".join("[" + ", ".join(str(v) for v in f) + "]" for f in t.factors)
            lines.append(f"  term {i}: {t.scale} * {vecs}")
        return "\n".join(lines)


@dataclass(frozen=True, repr=False)
class SeparabilityConditions(Result):
    """When does a parametric kernel have rank ``<= rank``?

    Attributes
    ----------
    rank : int
        The rank bound asked about.
    equations : tuple of sympy expressions
        Each means "``= 0``"; the rank is ``<= rank`` exactly when all of
        them vanish (and the entries are defined).  Empty when ``always`` or
        ``never``.
    always : bool
        Every ``(rank + 1)``-minor vanishes identically.
    never : bool
        The minors have no common zero, not even a complex one (the reduced
        Groebner basis is ``[1]``), so no parameter value gives rank ``<= rank``.
    decided : bool
        False when the work was cut off (``max_minors``); see ``reason``.
    parameters : tuple of str
        The parameters (free symbols) of the kernel.
    reason : str
        How the answer was obtained, or why it is undecided.
    """

    rank: int
    equations: tuple[Any, ...]
    always: bool
    never: bool
    decided: bool
    parameters: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "equations": [str(e) for e in self.equations],
            "always": self.always,
            "never": self.never,
            "decided": self.decided,
            "parameters": list(self.parameters),
            "reason": self.reason,
        }

    def __repr__(self) -> str:
        eqs = [str(e) for e in self.equations]
        return (
            f"SeparabilityConditions(rank={self.rank}, equations={eqs}, always={self.always}, "
            f"never={self.never}, decided={self.decided})"
        )

    def __str__(self) -> str:
        head = f"rank <= {self.rank}"
        if not self.decided:
            return f"{head}: undecided ({self.reason})"
        if self.always:
            return f"{head} for all parameter values"
        if self.never:
            return f"{head} for no parameter values (not even complex ones)"
        return f"{head} exactly when " + " and ".join(f"{e} = 0" for e in self.equations)


@dataclass(frozen=True, repr=False)
class FunctionRank(Result):
    """The separable rank of an expression ``f(x, y)``.

    Attributes
    ----------
    rank : int or None
        The least ``r`` with ``f = sum_{i < r} g_i(x) h_i(y)``; None when it
        exceeds ``max_rank`` or is undecided.
    decided : bool
        True when ``rank`` is proven (None with ``decided=True`` means proven
        to exceed ``max_rank``).
    max_rank : int
        The largest rank tried.
    lower_bound : int
        A proven lower bound of the rank (``max_rank + 1`` when it exceeds it).
    factors : tuple of (g, h) or None
        ``f = sum g(x) * h(y)`` over the returned pairs, when the rank is
        decided and sympy found the factors; None otherwise.
    expression, x, y : str
        What was analysed.
    reason : str
        How the answer was obtained, or why it is undecided.
    limit : str
        Empty, or which work limit stopped the computation (then ``decided``
        is False) and how to raise it.
    """

    rank: int | None
    decided: bool
    max_rank: int
    lower_bound: int
    factors: tuple[tuple[Any, Any], ...] | None
    expression: str
    x: str
    y: str
    reason: str
    limit: str = ""

    @property
    def exceeds_max_rank(self) -> bool:
        return self.decided and self.rank is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "decided": self.decided,
            "max_rank": self.max_rank,
            "lower_bound": self.lower_bound,
            "exceeds_max_rank": self.exceeds_max_rank,
            "factors": None
            if self.factors is None
            else [[str(g), str(h)] for g, h in self.factors],
            "expression": self.expression,
            "x": self.x,
            "y": self.y,
            "reason": self.reason,
            "limit": self.limit or None,
        }

    def __repr__(self) -> str:
        if self.exceeds_max_rank:
            verdict = f"rank > {self.max_rank}"
        elif self.decided:
            verdict = f"rank={self.rank}"
        else:
            verdict = f"undecided, rank >= {self.lower_bound}"
        expr = self.expression if len(self.expression) <= 200 else self.expression[:197] + "..."
        return f"FunctionRank({verdict}, f={expr}, x={self.x}, y={self.y})"

    def __str__(self) -> str:
        lines = [repr(self), f"  {self.reason}"]
        for g, h in self.factors or ():
            lines.append(f"  ({g}) * ({h})")
        return "\n".join(lines)


# --------------------------------------------------------------------------- work limits

#: Default wall-clock limit, in seconds, of one call of an exact entry point.
DEFAULT_TIME_LIMIT = 10.0
#: Largest ``max_rank`` of :func:`function_rank` (W_r needs derivatives of order 2r).
MAX_FUNCTION_RANK = 12
#: Largest expression accepted, in tree nodes (all entries of a matrix together).
MAX_EXPRESSION_NODES = 20_000
#: Deepest expression accepted (nesting of operations).
MAX_EXPRESSION_DEPTH = 200
#: Largest derivative, in operations (``sympy.count_ops``), :func:`function_rank` builds.
MAX_DERIVATIVE_OPS = 20_000


class _LimitReached(BaseException):
    """Raised inside a computation whose work limit is reached.

    A BaseException (as KeyboardInterrupt), so that sympy's ``except Exception``
    clauses do not swallow it.
    """


_ACTIVE = threading.local()


class _Deadline:
    """A wall-clock limit on the calling thread's work.

    Checked cooperatively (:func:`_check_deadline` between steps) and, on
    CPython, enforced inside long sympy calls as well: a ``threading.Timer``
    raises :class:`_LimitReached` in the calling thread when the time is up
    (``PyThreadState_SetAsyncExc``, as a KeyboardInterrupt arrives).  No
    signals are used, so it works off the main thread; the timer thread is
    cancelled and joined on exit, and an exception it raised too late is
    cleared.  While ``gc.callbacks`` is not empty (an asynchronous exception
    delivered inside a gc callback would be lost there), only the cooperative
    checks apply.  Nested deadlines defer to the outermost one.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = math.inf if seconds is None else time.monotonic() + seconds
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._done = False
        self._fired = False
        self._outer = False

    def __enter__(self) -> _Deadline:
        if getattr(_ACTIVE, "deadline", None) is not None:
            return self
        self._outer = True
        _ACTIVE.deadline = self
        if self.seconds is not None:
            self._tid = threading.get_ident()
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _fire(self) -> None:
        with self._lock:
            # An asynchronous exception that arrives while a gc callback runs in the
            # working thread is swallowed there ("Exception ignored"); with gc
            # callbacks installed, rely on the cooperative checks alone.
            if not self._done and not gc.callbacks:
                self._fired = _set_async_exc(self._tid, _LimitReached)

    def __exit__(self, *exc: Any) -> None:
        if not self._outer:
            return
        _ACTIVE.deadline = None
        with self._lock:
            self._done = True
            if self._fired:
                _set_async_exc(self._tid, None)  # clear it, if still pending
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()

    def message(self) -> str:
        return (
            f"the time limit `time_limit={self.seconds:g}` s was reached; raise it "
            "(command line: --time-limit SECONDS), or pass `time_limit=None` for no limit"
        )


_ASYNC: list[Any] = []


def _set_async_exc(tid: int, exc: Any) -> bool:
    """``PyThreadState_SetAsyncExc`` (CPython); False where it does not exist."""
    if not _ASYNC:
        try:
            import ctypes

            fn = ctypes.pythonapi.PyThreadState_SetAsyncExc
            fn.restype = ctypes.c_int
            _ASYNC.append((ctypes, fn))
        except (ImportError, AttributeError):  # not CPython: cooperative checks only
            _ASYNC.append(None)
    if _ASYNC[0] is None:
        return False
    ctypes, fn = _ASYNC[0]
    # None is passed as NULL: "clear the pending exception"
    fn(ctypes.c_ulong(tid), ctypes.py_object(exc) if exc is not None else None)
    return True


def _check_deadline() -> None:
    """Raise :class:`_LimitReached` when the calling thread's deadline has passed."""
    dl = getattr(_ACTIVE, "deadline", None)
    if dl is not None and time.monotonic() > dl.end:
        raise _LimitReached


def _check_time_limit(time_limit: Any) -> float | None:
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real):
        raise TypeError(
            f"`time_limit` must be a number of seconds or None; got {_describe(time_limit)}."
        )
    value = float(time_limit)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(
            f"`time_limit` must be a positive number of seconds (or None for no limit); "
            f"got {time_limit!r}."
        )
    return value


def _tree_size(exprs: Any) -> tuple[int, int]:
    """Nodes and depth of sympy expressions, walked without recursion."""
    nodes = depth = 0
    stack = [(e, 1) for e in exprs]
    while stack:
        e, level = stack.pop()
        nodes += 1
        depth = max(depth, level)
        if nodes > MAX_EXPRESSION_NODES or depth > MAX_EXPRESSION_DEPTH:
            break
        stack.extend((a, level + 1) for a in getattr(e, "args", ()))
    return nodes, depth


def _check_expression_size(exprs: Any, name: str) -> None:
    """Refuse expressions too large or too deep to analyse in bounded time."""
    nodes, depth = _tree_size(exprs)
    if nodes > MAX_EXPRESSION_NODES:
        raise ValueError(
            f"`{name}` has more than {MAX_EXPRESSION_NODES} expression nodes; exact analysis "
            "of expressions this large does not finish in bounded time. Simplify it first "
            "(e.g. `sympy.cancel`), or use the numeric `kernelfactor.analyze` on samples."
        )
    if depth > MAX_EXPRESSION_DEPTH:
        raise ValueError(
            f"`{name}` is nested more than {MAX_EXPRESSION_DEPTH} levels deep; exact analysis "
            "of such expressions does not finish in bounded time. Simplify it first."
        )


# --------------------------------------------------------------------------- safe parser

#: Function names :func:`parse_expression` accepts, and the sympy function each means.
EXPRESSION_FUNCTIONS = (
    *("Abs", "Heaviside", "Max", "Min", "abs", "acos", "asin", "atan", "atan2", "cos"),
    *("cosh", "erf", "exp", "log", "sign", "sin", "sinc", "sinh", "sqrt", "tan", "tanh"),
)
#: Constant names :func:`parse_expression` accepts.
EXPRESSION_CONSTANTS = ("E", "pi")
_EXPR_OPERATORS = ("(", ")", "*", "**", "+", ",", "-", "/")
#: Longest text :func:`parse_expression` accepts, in characters.
MAX_EXPRESSION_LENGTH = 10_000
#: Largest numeric exponent :func:`parse_expression` accepts.
MAX_EXPRESSION_EXPONENT = 1000
#: Largest number, in bits, that may appear while building a parsed expression.
_MAX_NUMBER_BITS = 20_000


def parse_expression(
    text: str, variables: Sequence[Any] = ("x", "y"), *, name: str = "text"
) -> Any:
    """Parse a formula safely into a sympy expression: nothing is ever evaluated.

    ``text`` is tokenised and checked against a whitelist (numbers, the
    ``variables``, the constants ``E`` and ``pi``, the functions in
    :data:`EXPRESSION_FUNCTIONS`, ``+ - * / **``, parentheses and commas),
    then parsed by Python's :mod:`ast` *parser* (which runs no code) and
    built node by node, without recursion, from sympy constructors.  Unlike
    ``sympy.sympify`` (which calls :func:`eval`), no attribute access, call
    of an unlisted function, string or keyword can get through.  Limits,
    checked before any heavy arithmetic: :data:`MAX_EXPRESSION_LENGTH`
    characters, numeric exponents up to :data:`MAX_EXPRESSION_EXPONENT` in
    absolute value, intermediate numbers below 2**20000 (so towers such as
    ``(((9**999)**999)**999)**999`` are refused at once), and the size limits
    of the exact entry points.  Decimal literals are exact: ``0.1`` is ``1/10``.

    Parameters
    ----------
    text : str
        The formula, Python syntax (``**`` for powers), e.g. ``"exp(-x**2) * y"``.
    variables : sequence of str or sympy Symbol
        The names the formula may use besides the constants and functions.  A
        name given as a string becomes a real ``Symbol``; a Symbol is used as
        it is (with its assumptions).
    name : str
        How error messages call ``text`` (the command line passes ``--expr``).

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ValueError
        Text that is not such a formula, too long, with a too large exponent,
        or not a finite expression (``1/0``).
    TypeError
        ``text`` not a string, or a variable neither a string nor a Symbol.

    Examples
    --------
    >>> import kernelfactor as kf
    >>> kf.parse_expression("exp(-(x**2 + y**2)/2) * 0.5")
    exp(-x**2/2 - y**2/2)/2
    >>> kf.parse_expression("__import__('os').system('echo no')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: text uses the unknown name '__import__'; allowed are the variables x, y, ...
    """
    import sympy as sp

    if not isinstance(text, str):
        raise TypeError(f"`{name}` must be a string; got {_describe(text)}.")
    symbols: dict[str, Any] = {}
    for v in variables:
        if isinstance(v, str) and v.isidentifier():
            symbols[v] = sp.Symbol(v, real=True)
        elif isinstance(v, sp.Symbol):
            symbols[v.name] = v
        else:
            raise TypeError(
                f"`variables` must hold names (str) or sympy Symbols; got {_describe(v)}."
            )
    shown = text if len(text) <= 60 else text[:57] + "..."
    if not text.strip():
        raise ValueError(f"{name} is empty; give an expression in x and y such as x*y + 1")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ValueError(
            f"{name} is {len(text)} characters long; the limit is {MAX_EXPRESSION_LENGTH}"
        )
    reserved = {*EXPRESSION_FUNCTIONS, *EXPRESSION_CONSTANTS}
    clash = sorted(set(symbols) & reserved)
    if clash:
        raise ValueError(f"`variables` may not use the reserved name {clash[0]!r}.")
    allowed = {*symbols, *reserved}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise ValueError(f"{name} {shown!r} is not a valid expression ({exc})") from None
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        if tok.type == tokenize.NUMBER:
            if tok.string.lower().endswith("j"):
                raise ValueError(f"{name}: complex numbers ({tok.string!r}) are not supported")
            continue
        if tok.type == tokenize.NAME:
            if tok.string not in allowed:
                close = difflib.get_close_matches(tok.string, sorted(allowed), n=3)
                hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
                raise ValueError(
                    f"{name} uses the unknown name {tok.string!r}; allowed are the variables "
                    f"{', '.join(symbols)}, the constants {', '.join(EXPRESSION_CONSTANTS)} "
                    f"and the functions {', '.join(sorted(EXPRESSION_FUNCTIONS))}.{hint}"
                )
            continue
        if tok.type == tokenize.OP and tok.string in _EXPR_OPERATORS:
            continue
        hint = " (write powers as **)" if tok.string == "^" else ""
        raise ValueError(f"{name}: {tok.string!r} is not allowed in an expression{hint}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        msg = getattr(exc, "msg", None) or str(exc) or "syntax"
        raise ValueError(f"{name} {shown!r} is not a valid expression ({msg})") from None
    expr = _build_expression(tree.body, text.strip(), symbols, name)
    if not isinstance(expr, sp.Expr) or expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise ValueError(f"{name} {shown!r} does not define a finite function of x and y")
    if expr.has(sp.I):
        raise ValueError(
            f"{name} {shown!r} is not real ({expr} contains the imaginary unit I, e.g. from "
            "sqrt(-1) or log(-1)); kernels are real functions of x and y"
        )
    return expr


def _number_bits(e: Any) -> float:
    """``|log2 |e||`` of an (evaluated, bounded) number; inf when it cannot be bounded."""
    if e.is_Rational:
        return float(max(abs(int(e.p)).bit_length(), int(e.q).bit_length()))
    try:
        v = abs(complex(e.evalf(15)))
    except (TypeError, ValueError, OverflowError):
        return math.inf
    if not math.isfinite(v):
        return math.inf
    return abs(math.log2(v)) if v > 0 else 0.0


def _build_expression(root: Any, text: str, symbols: dict[str, Any], name: str) -> Any:
    """Build the sympy expression of a whitelisted :mod:`ast` tree, iteratively."""
    import sympy as sp

    consts = {"E": sp.E, "pi": sp.pi}
    funcs = {f: getattr(sp, f) for f in EXPRESSION_FUNCTIONS if f != "abs"}
    funcs["abs"] = sp.Abs
    binops: dict[type, Any] = {
        ast.Add: lambda a, b: a + b,
        ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b,
        ast.Div: lambda a, b: a / b,
    }

    def bad(node: Any, what: str) -> ValueError:
        return ValueError(f"{name}: {what} is not allowed in an expression")

    def children(node: Any) -> list[Any]:
        if isinstance(node, ast.BinOp):
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            return [node.operand]
        if isinstance(node, ast.Call):
            return list(node.args)
        return []

    def power(base: Any, exp: Any) -> Any:
        if not exp.free_symbols:
            size = abs(complex(exp.evalf(15))) if _number_bits(exp) <= 64 else math.inf
            if size > MAX_EXPRESSION_EXPONENT:
                raise ValueError(
                    f"{name}: the exponent {exp} is too large (limit "
                    f"{MAX_EXPRESSION_EXPONENT}); kernels are smooth functions, not towers "
                    "of powers"
                )
            if base.is_number and _number_bits(base) * size > _MAX_NUMBER_BITS:
                raise ValueError(
                    f"{name}: the power ({str(base)[:30]})**({exp}) is too large (more than "
                    f"2**{_MAX_NUMBER_BITS}); kernels are smooth functions, not towers of powers"
                )
        return base**exp

    def make(node: Any, args: list[Any]) -> Any:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad(node, repr(value))
            if isinstance(value, int):
                return sp.Integer(value)
            literal = (ast.get_source_segment(text, node) or repr(value)).replace("_", "")
            try:
                frac = Fraction(literal)
            except ValueError:
                frac = Fraction(value)
            return sp.Rational(frac.numerator, frac.denominator)
        if isinstance(node, ast.Name):
            if node.id in symbols:
                return symbols[node.id]
            if node.id in consts:
                return consts[node.id]
            raise bad(node, f"the name {node.id!r} used as a value")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -args[0] if isinstance(node.op, ast.USub) else args[0]
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return power(args[0], args[1])
            op = binops.get(type(node.op))
            if op is None:
                raise bad(node, type(node.op).__name__)
            return op(args[0], args[1])
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in funcs or node.keywords:
                raise bad(node, "this call")
            try:
                return funcs[node.func.id](*args)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{name}: {node.func.id}(...) with {len(args)} argument(s) is not valid "
                    f"({exc})"
                ) from None
        what = {ast.Attribute: "'.'", ast.Subscript: "'['"}.get(type(node), type(node).__name__)
        raise bad(node, what)

    # post-order without recursion: (node, children built?)
    stack: list[tuple[Any, bool]] = [(root, False)]
    values: list[Any] = []
    nodes = 0
    while stack:
        node, ready = stack.pop()
        if not ready:
            nodes += 1
            if nodes > MAX_EXPRESSION_NODES:
                raise ValueError(f"{name} has more than {MAX_EXPRESSION_NODES} operations")
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(children(node)))
            continue
        n = len(children(node))
        args = values[len(values) - n :] if n else []
        if n:
            del values[len(values) - n :]
        try:
            values.append(make(node, args))
        except ZeroDivisionError:
            raise ValueError(
                f"{name} {text[:60]!r} does not define a finite function of x and y"
            ) from None
    return values[0]


# --------------------------------------------------------------------------- coercion


@dataclass
class _Rational:
    """An integer matrix ``K_int`` and row denominators: ``K = diag(1/den) @ K_int``."""

    kint: np.ndarray  # int64, or object holding Python ints
    den: list[int]
    is_integer: bool


def _float_to_fraction(v: Any, floats: str, limit: int | None, name: str) -> Fraction:
    """The exact value of a binary float of any width (float16 ... longdouble)."""
    if not np.isfinite(v):
        raise ValueError(f"`{name}` contains {v!r}; an exact rank needs finite entries.")
    if floats == "error":
        raise TypeError(
            f"`{name}` contains the float {v!r} and `floats='error'` was given; pass "
            "integers, fractions.Fraction or sympy Rational entries, or use "
            "`floats='exact'` (the float's exact binary value) or `limit_denominator=N`."
        )
    if isinstance(v, np.floating):
        # float(v) would round a longdouble; as_integer_ratio is exact for every width
        frac = Fraction(*v.as_integer_ratio())
    else:
        frac = Fraction(v)
    return frac.limit_denominator(limit) if limit is not None else frac


def _is_sympy(v: object) -> bool:
    """A sympy object whose class sympy made on the fly (``Function('f')(t)``)."""
    sp = sys.modules.get("sympy")
    return sp is not None and isinstance(v, sp.Basic)


def _scalar(v: Any, floats: str, limit: int | None, name: str) -> Any:
    """int | Fraction for rational entries, a sympy expression for symbolic ones."""
    if isinstance(v, (bool, np.bool_)):
        raise TypeError(f"`{name}` holds booleans; pass numeric weights (e.g. 0 and 1).")
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, Fraction):
        return v
    if isinstance(v, Decimal):
        return Fraction(v)
    if isinstance(v, np.floating):
        return _float_to_fraction(v, floats, limit, name)
    if isinstance(v, numbers.Real) and not type(v).__module__.startswith("sympy"):
        return _float_to_fraction(float(v), floats, limit, name)
    mod = type(v).__module__ or ""  # applied undefined functions f(t) have no module
    if mod.startswith("sympy") or _is_sympy(v):
        import sympy as sp

        if not isinstance(v, sp.Basic) or isinstance(v, sp.MatrixBase):
            raise TypeError(f"`{name}` entries must be scalars; got {_describe(v)}.")
        if v.is_Integer:
            return int(v)
        if v.is_Rational:
            return Fraction(int(v.p), int(v.q))
        if v.is_Float:
            if not v.is_finite:
                raise ValueError(f"`{name}` contains {v}; an exact rank needs finite entries.")
            if floats == "error" or limit is not None:
                return _float_to_fraction(float(v), floats, limit, name)
            exact = sp.Rational(v)
            return Fraction(int(exact.p), int(exact.q))
        if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise ValueError(f"`{name}` contains {v}; an exact rank needs finite entries.")
        return v
    if isinstance(v, str):
        raise TypeError(
            f"`{name}` holds the string {v!r}; pass numbers or sympy expressions "
            "(`sympy.sympify(...)` turns text into expressions)."
        )
    if isinstance(v, numbers.Complex):
        return _gaussian_rational(v, floats, limit, name)
    raise TypeError(
        f"`{name}` entries must be int, float, Fraction or sympy expressions; "
        f"got {_describe(v)}."
    )


def _gaussian_rational(v: Any, floats: str, limit: int | None, name: str) -> Any:
    """A complex entry as an element of Q(i): ``a + b*I`` with a, b exact rationals.

    Each part is read as :func:`_scalar` reads a real (binary floats at their
    exact value); a zero imaginary part gives a plain rational.
    """
    z = complex(v)
    re = _scalar(np.float64(z.real), floats, limit, name)
    im = _scalar(np.float64(z.imag), floats, limit, name)
    if im == 0:
        return re
    import sympy as sp

    def q(x: int | Fraction) -> Any:
        return sp.Rational(x.numerator, x.denominator) if isinstance(x, Fraction) else sp.Integer(x)

    return q(re) + sp.I * q(im)


def _as_exact_matrix(
    kernel: Any, *, name: str = "kernel", floats: str = "exact", limit_denominator: Any = None
) -> _Rational | Any:
    """Coerce `kernel` to a :class:`_Rational` or, if symbolic, a sympy Matrix."""
    _check_choice(floats, _FLOAT_POLICIES, "floats")
    limit = None
    if limit_denominator is not None:
        limit = _check_positive_int(limit_denominator, "limit_denominator")
    if isinstance(kernel, str):
        raise TypeError(
            f"`{name}` must be a matrix; got the string {kernel!r}. For a catalogue kernel "
            "pass its array, for an expression f(x, y) use `kernelfactor.function_rank`."
        )
    if type(kernel).__module__.startswith("sympy"):
        import sympy as sp

        if not isinstance(kernel, sp.MatrixBase):
            raise TypeError(
                f"`{name}` must be a matrix; got the sympy expression {kernel!s:.60}. "
                "For a function f(x, y) use `kernelfactor.function_rank(f, x, y)`."
            )
        arr = np.empty(kernel.shape, dtype=object)
        for (i, j), v in np.ndenumerate(np.array(kernel.tolist(), dtype=object)):
            arr[i, j] = v
    elif isinstance(kernel, np.ndarray):
        arr = kernel
    elif hasattr(kernel, "to_array"):
        arr = np.asarray(kernel.to_array())
    else:
        try:
            arr = np.asarray(kernel, dtype=object)
        except ValueError as exc:
            raise ValueError(
                f"`{name}` must be a rectangular matrix; got {_describe(kernel)} ({exc})."
            ) from None
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}); a kernel needs m, n >= 1.")
    if arr.ndim != 2:
        hint = ""
        if arr.ndim == 1:
            hint = " A 1-D filter is ambiguous: pass [[...]] for a row or [[a], [b]] for a column."
        raise ValueError(f"`{name}` must be 2-D (m, n); got shape {arr.shape}.{hint}")
    if arr.size == 0:
        raise ValueError(f"`{name}` is empty (shape {arr.shape}); a kernel needs m, n >= 1.")
    kind = arr.dtype.kind
    if kind == "b":
        raise TypeError(f"`{name}` has dtype bool; pass numeric weights, e.g. `k.astype(int)`.")
    if kind in "iu":
        big = arr.dtype.itemsize == 8 and kind == "u"
        kint = arr.astype(object) if big else arr.astype(np.int64)
        return _Rational(kint, [1] * arr.shape[0], True)
    if kind == "f":
        if not np.all(np.isfinite(arr)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ValueError(f"`{name}` contains NaN or Inf (first at index {bad}).")
        if floats == "exact" and limit is None and np.all(arr == np.round(arr)):
            if arr.dtype.itemsize <= 2 or np.all(np.abs(arr) < 2.0**62):  # float16 < 2**16
                return _Rational(arr.astype(np.int64), [1] * arr.shape[0], True)
        flat = [_float_to_fraction(v, floats, limit, name) for v in arr.ravel()]
    elif kind == "O":
        flat = [_scalar(v, floats, limit, name) for v in arr.ravel()]
    elif kind == "c":  # Gaussian rationals Q(i) (issue 16): the symbolic path over QQ<I>
        if not np.all(np.isfinite(arr)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ValueError(f"`{name}` contains NaN or Inf (first at index {bad}).")
        flat = [_gaussian_rational(v, floats, limit, name) for v in arr.ravel()]
    else:
        raise TypeError(
            f"`{name}` must hold real numbers or sympy expressions; got {_describe(arr)}."
        )
    m, n = arr.shape
    if any(not isinstance(v, (int, Fraction)) for v in flat):
        import sympy as sp

        return sp.Matrix(
            m,
            n,
            [
                sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else v
                for v in flat
            ],
        )
    rows = [flat[i * n : (i + 1) * n] for i in range(m)]
    den = [math.lcm(*(v.denominator for v in row if isinstance(v, Fraction))) for row in rows]
    ints = [[int(v * d) for v in row] for row, d in zip(rows, den, strict=True)]
    is_integer = all(d == 1 for d in den)
    return _Rational(_int_array(ints), den, is_integer)


def _int_array(rows: list[list[int]]) -> np.ndarray:
    """int64 when every entry fits comfortably, else an object array of Python ints."""
    if max((abs(v) for row in rows for v in row), default=0).bit_length() < 62:
        return np.array(rows, dtype=np.int64)
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    out[:, :] = rows
    return out


# --------------------------------------------------------------------------- rational rank


def _mod_p(k: np.ndarray) -> np.ndarray:
    if k.dtype == object:
        return np.mod(k, _PRIME).astype(np.int64)
    return np.mod(k, _PRIME)


def _mod_p_pivots(a: np.ndarray) -> tuple[list[int], list[int]]:
    """Row and column pivots of Gaussian elimination modulo the prime `_PRIME`.

    sympy's GF(p) matrices are pure Python without FLINT (minutes at 256 x 256),
    so this one elimination is vectorised here.  Residues are < 2**31, so every
    product fits in int64.
    """
    a = a.copy()
    m, n = a.shape
    order = np.arange(m)
    prow: list[int] = []
    pcol: list[int] = []
    r = 0
    for c in range(n):
        if r == m:
            break
        nz = np.flatnonzero(a[r:, c])
        if nz.size == 0:
            continue
        k = r + int(nz[0])
        if k != r:
            a[[r, k]] = a[[k, r]]
            order[[r, k]] = order[[k, r]]
        inv = pow(int(a[r, c]), -1, _PRIME)
        a[r, c:] = a[r, c:] * inv % _PRIME
        below = r + 1 + np.flatnonzero(a[r + 1 :, c])
        if below.size:
            a[below, c:] = (a[below, c:] - np.outer(a[below, c], a[r, c:]) % _PRIME) % _PRIME
        prow.append(int(order[r]))
        pcol.append(c)
        r += 1
    return sorted(prow), pcol


def _zz_adj_det(b: np.ndarray) -> tuple[list[list[int]], int]:
    from sympy import ZZ
    from sympy.polys.matrices import DomainMatrix

    dm = DomainMatrix.from_list([[int(v) for v in row] for row in b.tolist()], ZZ)
    adj, det = dm.adj_det()
    return [[int(v) for v in row] for row in adj.to_list()], int(det)


def _schur_vanishes(k: np.ndarray, rows: list[int], cols: list[int]) -> bool:
    """Exactly: is ``det(B) K == K[:, J] adj(B) K[I, :]`` with ``B = K[I, J]``?"""
    r = len(rows)
    if r == 0:
        return not np.any(k != 0)
    if r == min(k.shape):
        return True
    adj, det = _zz_adj_det(k[np.ix_(rows, cols)])
    amax = int(np.max(np.abs(k)))
    adjmax = max((abs(v) for row in adj for v in row), default=0)
    bound = max(abs(det) * amax, r * r * amax * amax * adjmax)
    if bound.bit_length() < 62 and k.dtype != object:
        lhs = det * k
        rhs = k[:, cols] @ np.array(adj, dtype=np.int64) @ k[rows, :]
    else:
        ko = k.astype(object)
        adj_o = np.empty((r, r), dtype=object)
        adj_o[:, :] = adj
        lhs = ko * det
        rhs = ko[:, cols].dot(adj_o).dot(ko[rows, :])
    return bool(np.all(lhs == rhs))


def _rref_den_pivots(k: np.ndarray) -> tuple[list[int], list[int]]:
    from sympy import ZZ
    from sympy.polys.matrices import DomainMatrix

    dm = DomainMatrix.from_list([[int(v) for v in row] for row in k.tolist()], ZZ)
    cols = list(dm.rref_den()[2])
    rows = list(dm.extract(list(range(k.shape[0])), cols).transpose().rref_den()[2])
    return rows, cols


def _resolve_backend(backend: str) -> str:
    _check_choice(backend, _BACKENDS, "backend")
    if backend == "sympy":
        return backend
    try:
        import flint  # noqa: F401
    except ImportError:
        if backend == "flint":
            raise ImportError(
                "`backend='flint'` needs python-flint: `pip install kernelfactor[exact]`, "
                "or use `backend='sympy'`."
            ) from None
        return "sympy"
    return "flint"


def _rational_pivots(rat: _Rational) -> tuple[list[int], list[int], str]:
    """Pivot rows/columns of an exactly verified rank decomposition."""
    k = rat.kint
    rows, cols = _mod_p_pivots(_mod_p(k))
    if (len(rows) <= 64 or len(rows) == min(k.shape)) and _schur_vanishes(k, rows, cols):
        return rows, cols, "rank modulo a prime + exact Schur-complement certificate"
    rows, cols = _rref_den_pivots(k)
    return rows, cols, "fraction-free rref (sympy DomainMatrix.rref_den)"


def _rational_rank(rat: _Rational, backend: str) -> tuple[int, str]:
    if _resolve_backend(backend) == "flint":
        import flint

        return int(flint.fmpz_mat(rat.kint.tolist()).rank()), "python-flint fmpz_mat.rank"
    rows, _, method = _rational_pivots(rat)
    return len(rows), method


# --------------------------------------------------------------------------- symbolic


@dataclass
class _Reduced:
    """A symbolic matrix rewritten with rational-function entries."""

    matrix: Any  # sympy Matrix, entries rational in `gens`
    back: dict[Any, Any]  # new symbol -> what it stands for
    exact: bool  # no substitution was made: ranks are proven algebraically
    dm: Any  # DomainMatrix of `matrix`, or None when sympy needs EX


_TRIG_NAMES = (
    *("cos", "cosh", "cot", "coth", "csc", "csch"),
    *("sec", "sech", "sin", "sinh", "tan", "tanh"),
)


def _reduce(matrix: Any) -> _Reduced:
    """Rewrite `matrix` as rational functions of *symbols* (plus algebraic numbers).

    Every rewrite is an identity, so a minor that vanishes as a rational
    function of the new symbols vanishes for the original entries (upper
    bounds are proven).  Known dependencies are made explicit first, so that
    they are seen: ``exp(c*m)`` become powers of one ``q = exp(m/L)``
    (``E`` is ``exp(1)``); rational powers ``b**(p/q)`` of one base become
    powers of one ``q = b**(1/L)``, and ``b`` itself ``q**L``; ``log`` of a
    positive rational becomes a sum of logs of primes.  Any other
    non-rational, non-algebraic part (``pi``, ``log(2)``, ``erf(x)``, ...)
    becomes a new symbol.  sympy's own domains (``ZZ[pi, sqrt(pi)]``) are
    never used: their generators may be algebraically dependent.  Lower
    bounds are then certified on the original entries by the caller.
    """
    import sympy as sp

    trig = tuple(getattr(sp, n) for n in _TRIG_NAMES)
    entries = [sp.sympify(e, strict=True) for e in matrix]
    entries = [e.rewrite(sp.exp) if e.has(*trig) else e for e in entries]
    entries = [sp.powsimp(e) if e.has(sp.exp) else e for e in entries]
    _check_deadline()
    # exp(sum c_k m_k) -> prod q_k ** (integer), one new symbol per "m_k"; E = exp(1).
    atoms: set[Any] = set().union(*(e.atoms(sp.exp) for e in entries))
    split: dict[Any, list[tuple[Any, Any]]] = {}
    coeffs: dict[Any, list[Any]] = {}
    if any(e.has(sp.E) for e in entries):
        split[sp.E] = [(sp.S.One, sp.S.One)]
        coeffs.setdefault(sp.S.One, []).append(sp.S.One)
    for a in atoms:
        terms = []
        for t in sp.Add.make_args(sp.expand(a.args[0])):
            c, rest = t.as_coeff_Mul()
            if not c.is_Rational:
                c, rest = sp.S.One, t
            terms.append((rest, c))
            coeffs.setdefault(rest, []).append(c)
        split[a] = terms
    base: dict[Any, tuple[Any, Any]] = {}  # rest -> (symbol, multiplier)
    back: dict[Any, Any] = {}
    for i, rest in enumerate(sorted(coeffs, key=sp.default_sort_key)):
        cs = coeffs[rest]
        den = math.lcm(*(int(c.q) for c in cs))
        sign = -1 if all(c <= 0 for c in cs) else 1
        q = sp.Dummy(f"q{i}")
        base[rest] = (q, sign * den)
        back[q] = sp.exp(rest * sp.Rational(sign, den))
    amap = {a: sp.Mul(*(base[r][0] ** int(c * base[r][1]) for r, c in t)) for a, t in split.items()}
    entries = [e.xreplace(amap) if amap else e for e in entries]
    _check_deadline()
    # rational powers of one base -> integer powers of one new symbol
    pows: dict[Any, list[Any]] = {}
    for e in entries:
        for p in e.atoms(sp.Pow):
            if p.exp.is_Rational and not p.exp.is_Integer and not p.base.is_Rational:
                pows.setdefault(p.base, []).append(p)
    pmap: dict[Any, Any] = {}
    for i, (b, exps) in enumerate(sorted(pows.items(), key=lambda kv: sp.default_sort_key(kv[0]))):
        den = math.lcm(*(int(p.exp.q) for p in exps))
        q = sp.Dummy(f"r{i}")
        back[q] = b ** sp.Rational(1, den)
        for p in exps:
            pmap[p] = q ** int(p.exp * den)
        if not (b.is_Add or b.is_Mul or b.is_Pow):
            pmap[b] = q**den  # b = (b**(1/den))**den for the principal root
    entries = [e.xreplace(pmap) if pmap else e for e in entries]
    # log(positive rational) -> sum of logs of primes
    lmap: dict[Any, Any] = {}
    for e in entries:
        for lg in e.atoms(sp.log):
            arg = lg.args[0]
            if arg.is_Rational and arg.is_positive and arg != 1:
                lmap[lg] = _log_of_rational(arg)
    entries = [e.xreplace(lmap) if lmap else e for e in entries]
    _check_deadline()
    gmap: dict[Any, Any] = {}
    entries = [_generalise(e, gmap) for e in entries]
    for atom, z in gmap.items():
        back[z] = atom
    m, n = matrix.shape
    reduced = sp.Matrix(m, n, entries)
    dm = _to_dm(reduced)
    exact = not back
    if dm is not None and not all(getattr(g, "is_Symbol", False) for g in _domain_gens(dm)):
        exact = False  # a generator sympy made of a non-symbol: never trusted
    return _Reduced(reduced, back, exact, dm)


def _domain_gens(dm: Any) -> tuple[Any, ...]:
    dom = dm.domain
    gens = getattr(dom, "symbols", None) or getattr(dom, "gens", None) or ()
    return tuple(gens)


def _log_of_rational(r: Any) -> Any:
    """``log(r)`` for a positive rational as a sum of logs of primes (an identity)."""
    import sympy as sp

    out = sp.S.Zero
    for n, sign in ((int(r.p), 1), (int(r.q), -1)):
        if n == 1:
            continue
        facs = sp.factorint(n, limit=10**5)
        for pr, e in facs.items():
            out += sign * e * sp.log(sp.Integer(pr), evaluate=False)
    return out


def _generalise(e: Any, gmap: dict[Any, Any]) -> Any:
    """Replace every non-rational, non-algebraic sub-expression of `e` by a new symbol."""
    import sympy as sp

    if e.is_Symbol or e.is_Rational or e is sp.I:
        return e
    if e.is_Add or e.is_Mul:
        return e.func(*(_generalise(a, gmap) for a in e.args))
    if e.is_Pow and e.exp.is_Integer:
        return _generalise(e.base, gmap) ** e.exp
    if e.is_Pow and e.base.is_Rational and e.exp.is_Rational:
        return e  # an algebraic number: sympy's algebraic fields handle it exactly
    if e not in gmap:
        gmap[e] = sp.Dummy(f"z{len(gmap)}")
    return gmap[e]


def _to_dm(matrix: Any) -> Any:
    import sympy as sp
    from sympy.polys.matrices import DomainMatrix

    m, n = matrix.shape
    try:
        dm = DomainMatrix.from_list_sympy(m, n, matrix.tolist(), extension=True)
    except Exception:  # sympy raises several types for unsupported entries
        dm = None
    if dm is not None and not dm.domain.is_EX:
        return dm
    # construct_domain gives EX for algebraic numbers next to symbols: build
    # QQ<alg>[gens] / QQ<alg>(gens) by hand.
    alg = {
        p
        for e in matrix
        for p in e.atoms(sp.Pow)
        if p.is_number and p.is_algebraic and not p.is_Rational
    }
    if any(e.has(sp.I) for e in matrix):
        alg.add(sp.I)
    gens = sorted(matrix.free_symbols, key=sp.default_sort_key)
    if not alg or not gens:
        return None
    try:
        field = sp.QQ.algebraic_field(*sorted(alg, key=sp.default_sort_key))
        poly = all(e.is_polynomial(*gens) for e in matrix)
        dom = field.poly_ring(*gens) if poly else field.frac_field(*gens)
        rows = [[dom.from_sympy(e) for e in matrix[i, :]] for i in range(m)]
        return DomainMatrix(rows, (m, n), dom)
    except Exception:  # not representable: the caller falls back to generic symbols
        return None


def _domain_str(dm: Any) -> str:
    return str(dm.domain).replace(" ", "")


def _random_point(symbols: Any, rng: random.Random, *, integer: bool = False) -> dict[Any, Any]:
    import sympy as sp

    point = {}
    for s in sorted(symbols, key=sp.default_sort_key):
        if integer or s.is_integer:
            v = sp.Integer(rng.randint(2, 97))
        else:
            v = sp.Rational(rng.randint(11, 97), rng.randint(13, 41))
        point[s] = -v if s.is_negative or s.is_nonpositive else v
    return point


def _dm_pivots(dm: Any, rng: random.Random) -> tuple[list[int], list[int], str]:
    """Pivots of the generic rank of `dm`, certified exactly."""
    import sympy as sp
    from sympy.polys.matrices import DomainMatrix

    m, n = dm.shape
    mat = dm.to_Matrix()
    gens = sorted(mat.free_symbols, key=sp.default_sort_key)
    for _ in range(4):
        point = _random_point(gens, rng, integer=True)
        vals = mat.xreplace(point)
        if any(not v.is_finite for v in vals):
            continue
        ev = DomainMatrix.from_list_sympy(m, n, vals.tolist(), extension=True).to_field()
        cols = list(ev.rref()[1])
        rows = list(ev.extract(list(range(m)), cols).transpose().rref()[1])
        r = len(cols)
        if r == min(m, n):
            return rows, cols, "rank at a random point = full rank"
        if r == 0:
            if dm.is_zero_matrix:
                return [], [], "zero matrix"
            continue
        b = dm.extract(rows, cols)
        adj, det = b.adj_det()
        lhs = dm.mul(det)
        rhs = dm.extract(list(range(m)), cols).matmul(adj).matmul(dm.extract(rows, list(range(n))))
        if (lhs - rhs).is_zero_matrix:
            return rows, cols, "rank at a random point + exact Schur-complement certificate"
    field = dm.to_field()
    cols = list(field.rref()[1])
    rows = list(field.extract(list(range(m)), cols).transpose().rref()[1])
    return rows, cols, "rref over the field of rational functions"


def _certify_nonzero_det(block: Any, rng: random.Random, tries: int = 3) -> bool:
    """Prove ``det(block) != 0`` (as a function) by evaluating at random points.

    Exact when the values are rational; otherwise the entries are evaluated by
    sympy's ``evalf(strict=True)`` to 50 digits and the determinant enclosed by
    interval arithmetic (``mpmath.iv``): 0 outside the enclosure proves it.
    """
    import mpmath
    import sympy as sp

    r = block.shape[0]
    if r == 0:
        return True
    symbols = block.free_symbols
    for _ in range(tries):
        _check_deadline()
        vals = block.subs(_random_point(symbols, rng)) if symbols else block
        if any(v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) for v in vals):
            continue
        if all(v.is_Rational for v in vals):
            return bool(_to_dm(vals).det() != 0)
        try:
            nums = [sp.N(v, _DPS, strict=True) for v in vals]
        except Exception:  # PrecisionExhausted and friends: try another point
            continue
        if any(not (v.is_Float or v.is_zero) for v in nums):
            continue
        iv, saved = mpmath.iv, mpmath.iv.prec
        iv.dps = _DPS + 10
        try:
            a = iv.matrix(r, r)
            for idx, v in enumerate(nums):
                # the enclosure [v - rad, v + rad], rad = 10**(5 - dps) |v|, in exact binary
                x = iv.mpf(str(v)) if v else iv.mpf(0)
                rad = abs(x) * iv.mpf(10) ** (5 - _DPS)
                a[idx // r, idx % r] = x + rad * iv.mpf([-1, 1])
            try:
                d = iv.mpf(iv.det(a))  # 0 (an int) when a pivot interval holds 0
            except (TypeError, ZeroDivisionError, ValueError):  # mpmath: no usable pivot
                continue
        finally:
            iv.prec = saved
        if d.a > 0 or d.b < 0:
            return True
    return False


@dataclass
class _SymbolicRank:
    rows: list[int]
    cols: list[int]
    red: _Reduced
    decided: bool
    bounds: tuple[int, int]
    method: str


def _symbolic_rank(matrix: Any) -> _SymbolicRank:
    rng = random.Random(20240603)
    red = _reduce(matrix)
    m, n = matrix.shape
    if red.dm is None:
        return _SymbolicRank(
            [], [], red, False, (0, min(m, n)), "no exact domain found for these entries"
        )
    rows, cols, method = _dm_pivots(red.dm, rng)
    r = len(rows)
    if red.exact or r == 0:
        return _SymbolicRank(rows, cols, red, True, (r, r), method)
    block = matrix.extract(rows, cols)
    if _certify_nonzero_det(block, rng):
        method += (
            "; non-rational entries replaced by symbols (upper bound), lower bound by "
            "interval arithmetic on the pivot minor"
        )
        return _SymbolicRank(rows, cols, red, True, (r, r), method)
    lower = 0
    for k in range(r - 1, 0, -1):  # a smaller certified minor still bounds the rank below
        if _certify_nonzero_det(matrix.extract(rows[:k], cols[:k]), rng):
            lower = k
            break
    method += (
        "; the pivot minor could not be certified non-zero (its entries may satisfy an "
        "identity not recognised), so the rank is undecided"
    )
    return _SymbolicRank(rows, cols, red, False, (lower, r), method)


# --------------------------------------------------------------------------- factors


def _primitive_int(vec: Sequence[Fraction | int]) -> tuple[Fraction, tuple[int, ...]]:
    """``vec = scale * w`` with w a primitive integer vector, first non-zero > 0."""
    den = math.lcm(*(Fraction(v).denominator for v in vec))
    ints = [int(Fraction(v) * den) for v in vec]
    g = math.gcd(*ints)
    lead = next(v for v in ints if v)
    if lead < 0:
        g = -g
    return Fraction(g, den), tuple(v // g for v in ints)


def _primitive_expr(vec: list[Any]) -> tuple[Any, tuple[Any, ...]]:
    import sympy as sp

    vals = [sp.cancel(v) for v in vec]
    nz = [v for v in vals if v != 0]
    den = sp.lcm_list([sp.fraction(v)[1] for v in nz])
    w = [sp.cancel(v * den) for v in vals]
    g = sp.gcd_list([v for v in w if v != 0])
    w = [sp.cancel(v / g) for v in w]
    scale = sp.cancel(g / den)
    if next(v for v in w if v != 0).could_extract_minus_sign():
        w = [-v for v in w]
        scale = -scale
    return scale, tuple(w)


def _rational_factor(rat: _Rational, backend: str) -> ExactFactorization:
    import sympy as sp

    k = rat.kint
    m, n = k.shape
    if _resolve_backend(backend) == "flint":
        import flint

        fm = flint.fmpz_mat(k.tolist())
        rref, _, r = fm.rref()
        cols = [next(j for j in range(n) if rref[i, j] != 0) for i in range(r)]
        rows = sorted(_mod_p_pivots(_mod_p(k[:, cols]))[0]) if r else []
        if len(rows) != r:
            rows = _rref_den_pivots(k[:, cols])[0]
        method = "python-flint fmpz_mat.rref"
    else:
        rows, cols, method = _rational_pivots(rat)
    terms = []
    if rows:
        from sympy import ZZ
        from sympy.polys.matrices import DomainMatrix

        b = DomainMatrix.from_list([[int(v) for v in k[i, cols]] for i in rows], ZZ)
        rhs = DomainMatrix.from_list([[int(v) for v in k[i, :]] for i in rows], ZZ)
        xnum, xden = b.solve_den(rhs)
        xl = xnum.to_list()
        for t, c in enumerate(cols):
            col = [Fraction(int(k[i, c]), rat.den[i]) for i in range(m)]
            row = [Fraction(int(v), int(xden)) for v in xl[t]]
            s1, cvec = _primitive_int(col)
            s2, rvec = _primitive_int(row)
            s = s1 * s2
            terms.append(
                FactorTerm(
                    sp.Rational(s.numerator, s.denominator),
                    tuple(sp.Integer(v) for v in cvec),
                    tuple(sp.Integer(v) for v in rvec),
                )
            )
    r = len(terms)
    return ExactFactorization(
        tuple(terms), (m, n), True, (r, r), "ZZ" if rat.is_integer else "QQ", method
    )


def _symbolic_factor(matrix: Any) -> ExactFactorization:
    import sympy as sp

    res = _symbolic_rank(matrix)
    red = res.red
    m, n = matrix.shape
    terms = []
    if res.rows and red.dm is not None:
        dm = red.dm
        adj, det = dm.extract(res.rows, res.cols).adj_det()
        xnum = adj.matmul(dm.extract(res.rows, list(range(n)))).to_Matrix()
        x = xnum / dm.domain.to_sympy(det)
        back = red.back
        # exp(I*x) stands for trigonometric entries: go back to sin/cos before
        # normalising, so the factors are real; exp(c*m) alone: normalise in q.
        trig = any(v.has(sp.I) for v in back.values())

        def unq(e: Any) -> Any:
            if not back:
                return e
            e = e.xreplace(back)
            return sp.simplify(e.rewrite(sp.cos)) if trig else sp.powsimp(e)

        if trig:  # solve with the original entries: real, readable factors
            xo = matrix.extract(res.rows, res.cols).inv() * matrix.extract(res.rows, list(range(n)))
        for t, c in enumerate(res.cols):
            col, row = list(red.matrix[:, c]), list(x[t, :])
            if trig:
                s1, cvec = _primitive_expr([sp.simplify(v) for v in matrix[:, c]])
                s2, rvec = _primitive_expr([sp.simplify(v) for v in xo[t, :]])
                terms.append(FactorTerm(sp.simplify(s1 * s2), cvec, rvec))
                continue
            s1, cvec = _primitive_expr(col)
            s2, rvec = _primitive_expr(row)
            terms.append(
                FactorTerm(
                    unq(sp.cancel(s1 * s2)),
                    tuple(unq(v) for v in cvec),
                    tuple(unq(v) for v in rvec),
                )
            )
    subs = tuple(sorted((str(k), str(v)) for k, v in red.back.items()))
    decided, bounds, method = res.decided, res.bounds, res.method
    bad = sp.S.Zero, sp.nan, sp.zoo, sp.oo, -sp.oo
    if any(t.scale in bad or any(v.has(*bad[1:]) for v in (t.scale, *t.column, *t.row))
           for t in terms):
        # never report degenerate terms (scale 0, NaN entries) as a decided answer
        decided, bounds = False, (0, max(bounds[1], len(terms)))
        method += "; the factors came out degenerate (a zero scale or NaN), so undecided"
    params = tuple(sorted(str(v) for v in matrix.free_symbols))
    return ExactFactorization(
        tuple(terms),
        (m, n),
        decided,
        bounds,
        _domain_str(red.dm) if red.dm is not None else "EX",
        method,
        subs,
        params,
    )


# --------------------------------------------------------------------------- public API




@docfiller
def exact_rank(
    kernel: Any,
    *,
    floats: str = "exact",
    limit_denominator: int | None = None,
    backend: str = "auto",
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    ndim: int = 2,
) -> int:
    """The exact rank of a rational or symbolic kernel, never with a float tolerance.

    Parameters
    ----------
    %(exact_params)s
    ndim : int
        2 (default), or ``d >= 3`` for one d-dimensional kernel: its tensor
        rank when proven (0 or 1 exactly when every unfolding has rank <= 1,
        separable; higher when the unfoldings' ranks pin it down), else a
        ValueError with the proven bounds.

    Returns
    -------
    ExactRank
        An ``int``: the rank over the rationals, proven.  For a kernel with
        symbols it is the *generic* rank, the rank over the field of rational
        functions of the parameters; then ``.generic`` is True and its
        ``repr`` says so: special parameter values can lower it, see
        :func:`separability_conditions`.

    Raises
    ------
    ValueError
        When the rank cannot be proven (a transcendental kernel whose pivot
        minor cannot be certified, or the time limit); call
        :func:`exact_factor`, whose result reports ``decided=False`` and
        proven ``rank_bounds`` instead of failing.

    Notes
    -----
    *Decided means proven.*  Rational kernels: exact integer arithmetic.
    Symbols and constants: every non-rational part is rewritten, by
    identities only, as a new symbol (dependencies such as ``pi`` and
    ``sqrt(pi)``, ``exp(x)`` and ``exp(2*x)``, ``log(6)`` and ``log(2)``
    are made explicit first), which proves the upper bound; the lower bound
    comes from a pivot minor certified non-zero, exactly or by interval
    arithmetic at a random point.  No floating-point tolerance is used.

    Examples
    --------
    >>> import kernelfactor as kf
    >>> kf.exact_rank([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    1
    >>> kf.exact_rank([[0.1, 0.7], [0.3, 2.1]])  # 0.1 * 2.1 != 0.7 * 0.3 in binary
    2
    >>> kf.exact_rank([[0.1, 0.7], [0.3, 2.1]], limit_denominator=1000)
    1
    >>> import sympy as sp
    >>> a, b, c, d = sp.symbols("a b c d")
    >>> kf.exact_rank(sp.Matrix([[a, b], [c, d]]))
    ExactRank(2, generic in a, b, c, d: special values can lower it, see ...)
    >>> kf.exact_rank(sp.Matrix([[sp.sqrt(sp.pi), sp.pi], [1, sp.sqrt(sp.pi)]]))
    1
    """
    if ndim != 2:
        return _exact_tensor_rank(kernel, ndim, floats=floats,
                                  limit_denominator=limit_denominator, backend=backend,
                                  time_limit=time_limit)
    limit = _check_time_limit(time_limit)
    mat = _as_exact_matrix(kernel, floats=floats, limit_denominator=limit_denominator)
    deadline = _Deadline(limit)
    try:
        with deadline:
            if isinstance(mat, _Rational):
                return ExactRank(_rational_rank(mat, backend)[0])
            _check_choice(backend, _BACKENDS, "backend")
            _check_expression_size(list(mat), "kernel")
            res = _symbolic_rank(mat)
    except _LimitReached:
        raise ValueError(
            f"the rank of this `kernel` was not decided: {deadline.message()}. "
            "`kernelfactor.exact_factor(kernel)` returns `decided=False` with the proven "
            "`rank_bounds` instead of failing."
        ) from None
    if not res.decided:
        raise ValueError(
            f"the rank of this `kernel` could not be proven: it lies in {list(res.bounds)} "
            f"({res.method}). Call `kernelfactor.exact_factor(kernel)`, whose result "
            "carries `decided=False` and the proven `rank_bounds`."
        )
    return ExactRank(len(res.rows), tuple(sorted(str(v) for v in mat.free_symbols)))


def _tensor_unfoldings(kernel: Any, ndim: int) -> list[np.ndarray]:
    arr = kernel if isinstance(kernel, np.ndarray) else np.asarray(
        kernel.to_array() if hasattr(kernel, "to_array") else kernel,
        dtype=None if isinstance(kernel, np.ndarray) else object,
    )
    if arr.dtype == object:
        try:  # plain numbers: keep their own dtype (ints, floats, complex)
            arr = np.array(arr.tolist())
        except (TypeError, ValueError):
            pass
    if isinstance(ndim, bool) or not isinstance(ndim, int) or ndim < 2:
        raise ValueError(f"`ndim` must be an integer >= 2; got {ndim!r}.")
    if arr.ndim != ndim:
        raise ValueError(f"`kernel` must have {ndim} axes (ndim={ndim}); got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"`kernel` is empty (shape {arr.shape}).")
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):  # the index in `kernel`'s axes
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValueError(f"`kernel` contains NaN or Inf (first at index {bad}).")
    return [np.moveaxis(arr, k, 0).reshape(arr.shape[k], -1) for k in range(ndim)]


def _exact_tensor_rank(kernel: Any, ndim: int, **options: Any) -> ExactRank:
    """The tensor rank of an n-D kernel where its unfoldings prove it (see :func:`exact_rank`).

    Every unfolding of a rank-r tensor has rank <= r (a lower bound: the
    largest unfolding rank); a tensor of multilinear rank (r_0, ..., r_{d-1})
    is a sum of prod_{j != k} r_j terms for each k (an upper bound).
    """
    ranks = [int(exact_rank(u, **options)) for u in _tensor_unfoldings(kernel, ndim)]
    lower = max(ranks)
    upper = min(math.prod(ranks[:k] + ranks[k + 1:]) for k in range(ndim))
    if lower <= 1 or lower == upper:
        return ExactRank(lower)
    raise ValueError(
        f"the tensor rank of this {ndim}-D `kernel` is not decided: its unfoldings have exact "
        f"ranks {tuple(ranks)} (multilinear rank), so it lies in [{lower}, {upper}]. It is "
        "separable (rank 1) exactly when every unfolding has rank <= 1; "
        f"`kernelfactor.lowrank(k, r, ndim={ndim})` approximates it by r terms."
    )


def _exact_entries(unfolding: np.ndarray, shape: tuple[int, ...], floats: str,
                   limit_denominator: int | None) -> tuple[np.ndarray, bool]:
    """The kernel's exact entries (Fractions, or sympy expressions) and whether rational."""
    mat = _as_exact_matrix(unfolding, floats=floats, limit_denominator=limit_denominator)
    if isinstance(mat, _Rational):
        rows = [[Fraction(int(v), den) for v in row] for row, den in zip(mat.kint, mat.den,
                                                                          strict=True)]
        return np.array(rows, dtype=object).reshape(shape), True
    return np.array(mat.tolist(), dtype=object).reshape(shape), False


def _mode_product(t: np.ndarray, m: np.ndarray, axis: int) -> np.ndarray:
    """``t x_axis m`` in exact (object) arithmetic."""
    return np.moveaxis(np.tensordot(m, t, axes=([1], [axis])), 0, axis)


def _exact_tensor_factor(kernel: object, ndim: int, *, floats: str,
                         limit_denominator: int | None, backend: str,
                         time_limit: float | None) -> ExactTensorFactorization:
    """:func:`exact_factor` for a d-D kernel (``ndim=d``): see its docstring."""
    import sympy as sp

    limit = _check_time_limit(time_limit)
    unf = _tensor_unfoldings(kernel, ndim)
    shape = (unf[0].shape[0], *(u.shape[0] for u in unf[1:]))
    deadline = _Deadline(limit)
    try:
        with deadline:
            entries, rational = _exact_entries(unf[0], shape, floats, limit_denominator)
            facs = [exact_factor(u, floats=floats, limit_denominator=limit_denominator,
                                 backend=backend, time_limit=time_limit) for u in unf]
    except _LimitReached:
        facs = []
    params = tuple(sorted({p for f in facs for p in f.parameters}))
    if len(facs) < ndim or not all(f.decided for f in facs):
        why = next((f.method for f in facs if not f.decided), deadline.message())
        return ExactTensorFactorization(
            (), shape, (), False, (0, min(math.prod(shape) // n for n in shape)), "?",
            f"undecided: an unfolding's rank was not decided ({why})", params,
            next((f.limit for f in facs if f.limit), "" if facs else deadline.message()))
    ranks = tuple(len(f.terms) for f in facs)
    domain = facs[0].domain
    if 0 in ranks:
        return ExactTensorFactorization((), shape, ranks, True, (0, 0), domain,
                                        "the zero kernel: rank 0", params)
    # the axis whose core fibres are fewest: all others are spanned by their pivot fibres
    others = [math.prod(ranks[:k] + ranks[k + 1:]) for k in range(ndim)]
    free = max(k for k in range(ndim) if others[k] == min(others))
    conv = (lambda v: Fraction(int(v))) if rational else (lambda v: v)
    bases: dict[int, np.ndarray] = {}
    core = entries
    for j in range(ndim):
        if j == free:
            continue
        basis = np.array([[conv(v) for v in t.column] for t in facs[j].terms], dtype=object).T
        _, pivots = sp.Matrix(basis.tolist()).T.rref()
        inverse = sp.Matrix(basis[list(pivots)].tolist()).inv()
        inv = np.array([[Fraction(int(v.p), int(v.q)) if rational else v for v in row]
                        for row in inverse.tolist()], dtype=object)
        core = _mode_product(np.take(core, list(pivots), axis=j), inv, j)
        bases[j] = basis
    terms = []
    for index in itertools.product(*(range(ranks[j]) for j in range(ndim) if j != free)):
        at = iter(index)
        picks = {j: next(at) for j in range(ndim) if j != free}
        at_free = core[tuple(slice(None) if j == free else picks[j] for j in range(ndim))]
        fibre = [v if rational else sp.cancel(v) for v in at_free]
        if all(v == 0 for v in fibre):
            continue
        scales, vectors = [], []
        for j in range(ndim):
            vec = fibre if j == free else list(bases[j][:, picks[j]])
            if rational:
                sc, ints = _primitive_int(vec)
                scales.append(sp.Rational(sc.numerator, sc.denominator))
                vectors.append(tuple(sp.Integer(v) for v in ints))
            else:
                sc, exprs = _primitive_expr(vec)
                scales.append(sc)
                vectors.append(exprs)
        terms.append(TensorFactorTerm(sp.cancel(sp.Mul(*scales)), tuple(vectors)))
    lower, upper = max(ranks), len(terms)
    decided = lower == upper
    method = (
        f"exact unfolding ranks {ranks} (multilinear rank); the fibres along every axis but "
        f"{free} span their unfolding's pivot fibres, so K = core x_j B_j with {upper} "
        "non-zero core fibres, one term each; "
        + ("the tensor rank is proven: as many terms as the largest unfolding rank"
           if decided else
           f"the tensor rank lies in [{lower}, {upper}] (undecided: every unfolding of a "
           f"rank-r tensor has rank <= r, and {upper} terms are exhibited)")
    )
    return ExactTensorFactorization(tuple(terms), shape, ranks, decided, (lower, upper),
                                    domain, method, params)


@overload
def exact_factor(
    kernel: object, *, floats: str = ..., limit_denominator: int | None = ..., backend: str = ...,
    time_limit: float | None = ..., ndim: Literal[2] = ...,
) -> ExactFactorization: ...
@overload
def exact_factor(
    kernel: object, *, floats: str = ..., limit_denominator: int | None = ..., backend: str = ...,
    time_limit: float | None = ..., ndim: int,
) -> ExactFactorization | ExactTensorFactorization: ...
@docfiller
def exact_factor(
    kernel: Any,
    *,
    floats: str = "exact",
    limit_denominator: int | None = None,
    backend: str = "auto",
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    ndim: int = 2,
) -> ExactFactorization | ExactTensorFactorization:
    """An exact rank decomposition ``K = sum_i s_i c_i r_i^T``.

    The columns ``c_i`` are the pivot columns of ``K``; the rows are the
    non-zero rows of the reduced row echelon form.  Both are scaled to
    primitive integer vectors (gcd 1, first non-zero entry positive) for
    rational kernels, to primitive polynomial vectors for symbolic ones
    (valid wherever the denominators do not vanish).

    .. math:: K = \\sum_{{i=1}}^{{r}} s_i \\, c_i r_i^T

    Parameters
    ----------
    %(exact_params)s
    ndim : int
        2 (default), or ``d >= 3`` for one d-dimensional kernel: an
        :class:`ExactTensorFactorization`, ``K = sum_i s_i f_i0 (x) ... (x)
        f_i(d-1)``.  Every unfolding's exact rank ``r_k`` and pivot fibres
        ``B_k`` come from the matrix case; for the axis ``k`` with the fewest
        ``prod_{j != k} r_j``, ``K = C x_j B_j`` over the other axes, the core
        ``C = K[P] x_j B_j[P_j]^{-1}`` (``P_j`` pivot rows) computed exactly,
        and each non-zero fibre of ``C`` gives one term.  Rank 0 and 1
        (separable) are always decided, with primitive integer (Gaussian
        integer over Q(i)) factors; a higher rank is decided when the terms
        are as few as the largest unfolding rank, a proven lower bound, and
        otherwise reported undecided in ``[max r_k, number of terms]``
        (the tensor rank is NP-hard in general; Hastad, J. Algorithms 11, 1990).

    Returns
    -------
    ExactFactorization or ExactTensorFactorization
        ``decided=True`` only when ``len(terms)`` is proven to be the rank (see
        :func:`exact_rank`, Notes); otherwise ``rank_bounds`` are proven
        bounds, and ``limit`` says when a work limit cut the work off.

    Examples
    --------
    >>> import kernelfactor as kf
    >>> f = kf.exact_factor([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    >>> f.rank
    1
    >>> f.terms[0]
    FactorTerm(scale=1, column=(1, 2, 1), row=(1, 0, -1))
    >>> f.to_matrix().tolist()
    [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
    >>> sobel3d = kf.volume_kernel("sobel3d").array
    >>> kf.exact_factor(sobel3d, ndim=3).terms[0]
    TensorFactorTerm(scale=-1, factors=((1, 0, -1), (1, 2, 1), (1, 2, 1)))
    """
    if ndim != 2:
        return _exact_tensor_factor(kernel, ndim, floats=floats,
                                    limit_denominator=limit_denominator, backend=backend,
                                    time_limit=time_limit)
    limit = _check_time_limit(time_limit)
    mat = _as_exact_matrix(kernel, floats=floats, limit_denominator=limit_denominator)
    deadline = _Deadline(limit)
    try:
        with deadline:
            if isinstance(mat, _Rational):
                return _rational_factor(mat, backend)
            _check_choice(backend, _BACKENDS, "backend")
            _check_expression_size(list(mat), "kernel")
            return _symbolic_factor(mat)
    except _LimitReached:
        m, n = mat.kint.shape if isinstance(mat, _Rational) else mat.shape
        params = () if isinstance(mat, _Rational) else tuple(
            sorted(str(v) for v in mat.free_symbols)
        )
        msg = deadline.message()
        return ExactFactorization(
            (), (m, n), False, (0, min(m, n)), "?", f"undecided: {msg}", (), params, msg
        )




def _sqf(expr: Any, gens: list[Any]) -> Any:
    """The square-free part (product of distinct non-constant factors), sign-normalised."""
    import sympy as sp

    _, facs = sp.factor_list(expr, *gens)
    out = sp.Mul(*(f for f, _ in facs if f.free_symbols))
    if out != 1 and sp.Poly(out, *gens).LC() < 0:
        out = -out
    return sp.expand(out)


def separability_conditions(
    kernel: Any,
    rank: int = 1,
    *,
    max_minors: int = 2000,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> SeparabilityConditions:
    """When does a parametric kernel have rank ``<= rank``?

    The rank is ``<= r`` exactly when every ``(r + 1)``-minor vanishes.  The
    minors' numerators are reduced to a short system: square-free parts of
    their factorisations, then a reduced Groebner basis (grevlex) of those,
    again square-free and sign-normalised.  Transcendental entries are
    handled by the substitutions described in the module docstring; the
    equations are reported in the original functions.

    ``never`` is decided over the complex numbers (Hilbert's Nullstellensatz:
    the Groebner basis is ``[1]``), hence also holds over the reals; a system
    whose only solutions are complex (e.g. ``t**2 + 1 = 0``) is reported as
    equations.  Values where an entry is undefined (a vanishing denominator)
    are outside the statement.

    Constants such as ``pi`` or ``log(2)`` are not parameters: an equation
    left without parameters is a number, which is certified non-zero by
    interval arithmetic (then ``never``) or the answer is undecided; an
    equation involving such constants is certified not to vanish
    identically, or the answer is undecided.  ``decided=True`` means every
    statement of the result is proven.

    Parameters
    ----------
    kernel : array_like or sympy Matrix
        As for :func:`exact_rank`; rational kernels give ``always`` or ``never``.
    rank : int
        The rank bound ``r``, ``0 <= r <= min(m, n)``.
    max_minors : int
        Give up (``decided=False``) rather than compute more minors than this.
    time_limit : float or None
        Wall-clock limit in seconds (default :data:`DEFAULT_TIME_LIMIT`); when
        reached the result is undecided and ``reason`` says so.  None: no limit.

    Returns
    -------
    SeparabilityConditions

    Examples
    --------
    >>> import sympy as sp
    >>> import kernelfactor as kf
    >>> a, b, c, d, t = sp.symbols("a b c d t")
    >>> print(kf.separability_conditions(sp.Matrix([[a, b], [c, d]])))
    rank <= 1 exactly when a*d - b*c = 0
    >>> kf.separability_conditions(sp.Matrix([[1, 2, 1], [2, t, 2], [1, 2, 1]])).equations
    (t - 4,)
    >>> kf.separability_conditions(sp.Matrix([[1, t, 1], [2, 2*t, 2], [1, t, 1]])).always
    True
    >>> kf.separability_conditions(sp.Matrix([[1, t], [0, 1]])).never
    True
    """

    limit = _check_time_limit(time_limit)
    mat = _as_exact_matrix(kernel)
    if isinstance(mat, _Rational):
        m, n = mat.kint.shape
        r = _check_rank(rank, min(m, n))
    else:
        m, n = mat.shape
        r = _check_rank(rank, min(m, n))
        _check_expression_size(list(mat), "kernel")
    max_minors = _check_positive_int(max_minors, "max_minors")
    params = () if isinstance(mat, _Rational) else tuple(
        sorted(str(s) for s in mat.free_symbols)
    )
    deadline = _Deadline(limit)
    try:
        with deadline:
            return _conditions(mat, r, max_minors, params)
    except _LimitReached:
        return SeparabilityConditions(r, (), False, False, False, params, deadline.message())


def _conditions(mat: Any, r: int, max_minors: int, params: tuple[str, ...]) -> Any:
    import sympy as sp

    if isinstance(mat, _Rational):
        true_rank = _rational_rank(mat, "auto")[0]
        ok = true_rank <= r
        return SeparabilityConditions(
            r, (), ok, not ok, True, (), f"no parameters; the exact rank is {true_rank}"
        )
    m, n = mat.shape

    def undecided(why: str) -> SeparabilityConditions:
        return SeparabilityConditions(r, (), False, False, False, params, why)

    if r == min(m, n):
        return SeparabilityConditions(r, (), True, False, True, params, "rank <= min(m, n)")
    count = math.comb(m, r + 1) * math.comb(n, r + 1)
    if count > max_minors:
        return undecided(
            f"{count} minors of size {r + 1} exceed `max_minors={max_minors}`; raise it "
            "to try anyway"
        )
    red = _reduce(mat)
    if red.dm is None:
        return undecided("no exact domain found for these entries")
    dom = red.dm.domain
    nums = []
    for rows in combinations(range(m), r + 1):
        for cols in combinations(range(n), r + 1):
            _check_deadline()
            det = red.dm.extract(list(rows), list(cols)).det()
            if det:
                nums.append(sp.fraction(sp.cancel(dom.to_sympy(det)))[0])
    how = "all minors vanish identically"
    if not nums:
        return SeparabilityConditions(r, (), True, False, True, params, how)
    gens = sorted(set().union(*(e.free_symbols for e in nums)), key=sp.default_sort_key)
    sqf = {_sqf(e, gens) for e in nums}
    if sp.S.One in sqf:
        how = "a minor is a non-zero constant"
        return SeparabilityConditions(r, (), False, True, True, params, how)
    polys = sorted(sqf, key=sp.default_sort_key)
    how = f"{len(nums)} non-zero minors, factorised"
    if len(polys) > 1:
        _check_deadline()
        basis = sp.groebner(polys, *gens, order="grevlex")
        if list(basis.exprs) == [1]:
            how += "; Groebner basis [1]"
            return SeparabilityConditions(r, (), False, True, True, params, how)
        polys = sorted({_sqf(g, gens) for g in basis.exprs}, key=sp.default_sort_key)
        how += "; reduced Groebner basis"
    eqs = tuple(sp.powsimp(p.xreplace(red.back)) if red.back else p for p in polys)
    constants = [z for z, v in red.back.items() if not v.free_symbols]
    if constants:
        # the new symbols of constants (pi, log 2, ...) are not parameters: check
        # that no equation is a number that might be 0, or vanishes identically
        rng = random.Random(20240611)
        for p, e in zip(polys, eqs, strict=True):
            if not p.has(*constants):
                continue
            if not _certify_nonzero_det(sp.Matrix([[e]]), rng):
                return undecided(
                    f"the condition {e} = 0 involves constants and could not be certified "
                    "not to vanish identically"
                )
            if not e.free_symbols:
                how += f"; the condition {e} = 0 is false (certified by interval arithmetic)"
                return SeparabilityConditions(r, (), False, True, True, params, how)
    return SeparabilityConditions(r, eqs, False, False, True, params, how)


def function_rank(
    f: Any,
    x: Any,
    y: Any,
    max_rank: int = 4,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> FunctionRank:
    """The separable rank of an expression ``f(x, y)`` on the real plane.

    The least ``r`` with ``f(x, y) = sum_{i=1}^r g_i(x) h_i(y)`` for all real
    ``x, y``.  For an ``f`` proven real-analytic on the whole plane it is
    decided with the mixed-derivative Wronskian criterion: with

    .. math:: W_r(f) = \\det\\left[\\frac{\\partial^{i+j} f}
              {\\partial x^i \\partial y^j}\\right]_{i, j = 0}^{r},

    a sum of ``r`` products has ``W_r(f) \\equiv 0``, and conversely (F. Neuman,
    "Factorizations of matrices and functions of two variables", Czechoslovak
    Math. J. 32 (1982) 582-588) if ``f`` is ``C^{2r}`` on an open rectangle,
    ``W_r(f) \\equiv 0`` and ``W_{r-1}(f)`` vanishes nowhere on it, then ``f``
    is a sum of ``r`` products there.  The rank returned is the least ``r``
    with ``W_r \\equiv 0``; ``W_{r-1}`` is then non-zero at some point, so the
    decomposition holds near it, and, ``f`` being analytic on the (connected)
    plane, everywhere by analytic continuation.

    ``W_r \\not\\equiv 0`` is proven by evaluation at a random point (exact
    rationals, or 50-digit interval arithmetic); ``W_r \\equiv 0`` by algebra
    after rewriting ``exp``/trigonometric functions as new symbols.  When
    neither succeeds the result is undecided.  Other free symbols of ``f``
    are parameters; the rank is the generic one.

    *Analyticity is checked, not assumed*: ``f`` must be built from
    polynomials, ``exp``, ``sin``, ``cos``, ``sinh``, ``cosh``, ``tanh``,
    ``atan``, ``asinh``, ``erf``, ``sinc``, powers and logs of expressions
    sympy proves positive for real ``x, y`` (e.g. ``1 + x**2``), and negative
    powers of ones it proves non-zero.  Otherwise (``Abs``, ``sign``,
    ``Heaviside``, ``Piecewise``, ``Min``/``Max``, ``floor``, ``sqrt((x -
    y)**2)``, ``1/(x - y)``, ...) the Wronskian is not used: a lower bound is
    proven from a non-singular matrix of sampled values ``[f(x_k, y_l)]``
    (no hypothesis needed), an upper bound only from the shape of ``f`` (a
    sum of products of one-variable factors); the answer is decided only
    when they meet, or when the lower bound exceeds ``max_rank``.

    Parameters
    ----------
    f : sympy expression or str
        The kernel function.  A string is read by :func:`parse_expression`
        with the names of ``x`` and ``y`` (never by ``sympify``/``eval``).
        An ``f`` without ``x`` (or ``y``) is a single product: rank 1, or 0
        when ``f`` is zero.
    x, y : sympy Symbol
        The two variables, distinct.  ``f`` must use these very symbols: a
        symbol of ``f`` with the same name but other assumptions
        (``Symbol('x', real=True)`` vs ``Symbol('x')``) is refused.
    max_rank : int
        Largest rank tried, at most :data:`MAX_FUNCTION_RANK` (the
        determinants grow fast).
    time_limit : float or None
        Wall-clock limit in seconds (default :data:`DEFAULT_TIME_LIMIT`); when
        reached the result is undecided, with the lower bound proven so far,
        and ``reason`` says so.  None: no limit.  Derivatives larger than
        :data:`MAX_DERIVATIVE_OPS` nodes also stop the work (undecided).

    Returns
    -------
    FunctionRank
        ``decided=True`` means proven, for all real ``x, y``.  ``.factors``
        lists ``(g(x), h(y))`` with ``f = sum g * h``, built from ``g_l(x) =
        f(x, y_l)`` and ``h_l(y) = sum_k (F^{-1})_{lk} f(x_k, y)`` where ``F =
        [f(x_k, y_l)]`` is non-singular at chosen points.

    Examples
    --------
    >>> import sympy as sp
    >>> import kernelfactor as kf
    >>> x, y = sp.symbols("x y", real=True)
    >>> res = kf.function_rank(sp.exp(-(x**2 + y**2) / 2), x, y)
    >>> res.rank, res.factors
    (1, ((exp(-x**2/2), exp(-y**2/2)),))
    >>> kf.function_rank(x * y + 1, x, y).rank
    2
    >>> kf.function_rank(sp.exp(x * y), x, y, max_rank=3)
    FunctionRank(rank > 3, f=exp(x*y), x=x, y=y)
    >>> kf.function_rank("Abs(x - y)", x, y)  # not analytic: sampled values prove it
    FunctionRank(rank > 4, f=Abs(x - y), x=x, y=y)
    """
    import sympy as sp

    if isinstance(f, (np.ndarray, sp.MatrixBase)) or isinstance(f, (list, tuple)):
        raise TypeError(
            f"`f` must be a scalar expression f(x, y); got {_describe(f)}. For a matrix "
            "use `kernelfactor.exact_rank` / `separability_conditions`."
        )
    for name, v in (("x", x), ("y", y)):
        if not isinstance(v, sp.Symbol):
            raise TypeError(
                f"`{name}` must be a sympy Symbol; got {_describe(v)}. "
                f"Create it with `{name} = sympy.Symbol({name!r})`."
            )
    if x == y:
        raise ValueError(f"`x` and `y` must be different symbols; both are {x}.")
    max_rank = _check_positive_int(max_rank, "max_rank", allow_zero=True)
    if max_rank > MAX_FUNCTION_RANK:
        raise ValueError(
            f"`max_rank` must be at most {MAX_FUNCTION_RANK} (W_r needs derivatives of order "
            f"2r and an (r+1)x(r+1) symbolic determinant); got {max_rank}. A rank above "
            f"{MAX_FUNCTION_RANK} is reported as 'rank > {MAX_FUNCTION_RANK}'."
        )
    limit = _check_time_limit(time_limit)
    if isinstance(f, str):
        f = parse_expression(f, (x, y), name="`f`")
    else:
        try:
            f = sp.sympify(f, strict=True)  # strict: never parses strings
        except (sp.SympifyError, TypeError):
            raise TypeError(f"`f` must be a sympy expression; got {_describe(f)}.") from None
        if not isinstance(f, sp.Expr):
            raise TypeError(f"`f` must be a sympy expression; got {_describe(f)}.")
    _check_expression_size([f], "f")
    for name, v in (("x", x), ("y", y)):
        twins = sorted(
            (s for s in f.free_symbols if s.name == v.name and s != v), key=sp.default_sort_key
        )
        if twins:
            raise ValueError(
                f"`f` uses a symbol named {v.name!r} that is not the `{name}` passed: f's has "
                f"the assumptions {_assumptions(twins[0])}, `{name}` has "
                f"{_assumptions(v)}, so f would be constant in `{name}`. Build f from the "
                f"same Symbol you pass (or pass f's own {v.name!r})."
            )
    if f.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise ValueError(f"`f` = {f} is not a finite function.")

    state = {"lower": 0}

    def result(rank: int | None, decided: bool, lower: int, reason: str, fac: Any,
               limit_msg: str = "") -> FunctionRank:
        return FunctionRank(rank, decided, max_rank, lower, fac, str(f), str(x), str(y),
                            reason, limit_msg)

    deadline = _Deadline(limit)
    try:
        with deadline:
            why = _not_analytic(f, x, y)
            if why is None:
                return _wronskian_rank(f, x, y, max_rank, state, result)
            return _sampled_rank(f, x, y, max_rank, state, result, why)
    except _LimitReached:
        msg = deadline.message()
        return result(None, False, state["lower"], f"undecided: {msg}", None, msg)


def _assumptions(s: Any) -> str:
    items = {k: v for k, v in s.assumptions0.items() if k in ("real", "positive", "integer",
                                                               "negative", "complex")}
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(items.items())) + "}" if items else (
        "{} (a plain Symbol)"
    )


def _not_analytic(f: Any, x: Any, y: Any) -> str | None:
    """None when `f` is proven real-analytic on the whole real (x, y) plane, else why not."""
    import sympy as sp

    xr, yr = sp.Dummy("x", real=True), sp.Dummy("y", real=True)
    g = f.xreplace({x: xr, y: yr})
    entire = (sp.exp, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.tanh, sp.atan, sp.asinh, sp.erf,
              sp.sinc)
    stack = [g]
    while stack:
        e = stack.pop()
        if not e.has(xr, yr) or e.is_Symbol:
            continue
        if e.is_Add or e.is_Mul or isinstance(e, entire):
            stack.extend(e.args)
            continue
        if e.is_Pow:
            b, p = e.args
            if p.has(xr, yr):
                ok = bool(b.is_positive)
            elif p.is_Integer:
                ok = bool(p >= 0 or b.is_nonzero)
            else:
                ok = bool(b.is_positive)
            if ok:
                stack.extend((b, p))
                continue
        if isinstance(e, sp.log) and e.args[0].is_positive:
            stack.append(e.args[0])
            continue
        shown = e.xreplace({xr: x, yr: y})
        return (
            f"f contains {shown}, not proven analytic on the whole real plane (the Wronskian "
            "criterion needs analyticity)"
        )
    return None


def _wronskian_rank(f: Any, x: Any, y: Any, max_rank: int, state: dict[str, int],
                    result: Any) -> FunctionRank:
    import sympy as sp

    rng = random.Random(7)
    derivs: dict[tuple[int, int], Any] = {(0, 0): f}

    def d(i: int, j: int) -> Any:
        if (i, j) not in derivs:
            _check_deadline()
            derivs[(i, j)] = sp.diff(d(i - 1, j), x) if i else sp.diff(d(i, j - 1), y)
        return derivs[(i, j)]

    for r in range(max_rank + 1):
        _check_deadline()
        w = sp.Matrix(r + 1, r + 1, lambda i, j: d(i, j))
        nodes = _tree_size([d(r, j) for j in range(r + 1)] + [d(i, r) for i in range(r)])[0]
        if nodes > MAX_DERIVATIVE_OPS:
            return result(
                None, False, r,
                f"undecided: the derivatives of order {2 * r} exceed {MAX_DERIVATIVE_OPS} "
                "expression nodes (kernelfactor._exact.MAX_DERIVATIVE_OPS); rank >= "
                f"{r} is proven", None,
                f"derivative size limit MAX_DERIVATIVE_OPS={MAX_DERIVATIVE_OPS}",
            )
        if _certify_nonzero_det(w, rng):
            state["lower"] = r + 1
            continue
        if _wronskian_vanishes(w):
            fac = _function_factors(f, x, y, r, rng)
            how = f"W_{r} vanishes identically" + (f", W_{r - 1} does not" if r else "")
            how += "; f is real-analytic on the whole plane"
            return result(r, True, r, how, fac)
        return result(
            None, False, r, f"W_{r} could neither be proven zero nor non-zero", None
        )
    return result(
        None,
        True,
        max_rank + 1,
        f"W_0 .. W_{max_rank} are all non-zero: rank > {max_rank}",
        None,
    )


def _separable_terms(f: Any, x: Any, y: Any) -> list[tuple[Any, Any]] | None:
    """``f = sum g(x) h(y)`` read off the shape of `f` (no hypothesis), or None."""
    import sympy as sp

    out: dict[Any, Any] = {}
    for term in sp.Add.make_args(f):
        g, h = sp.S.One, sp.S.One
        for fac in sp.Mul.make_args(term):
            has_x, has_y = fac.has(x), fac.has(y)
            if has_x and has_y:
                return None
            if has_y:
                h *= fac
            else:
                g *= fac
        out[h] = out.get(h, sp.S.Zero) + g
    return [(g, h) for h, g in out.items() if g != 0]


def _sampled_rank(f: Any, x: Any, y: Any, max_rank: int, state: dict[str, int], result: Any,
                  why: str) -> FunctionRank:
    """Bounds without analyticity: sampled minors (lower), the shape of f (upper)."""
    import sympy as sp

    rng = random.Random(11)
    params = f.free_symbols - {x, y}
    terms = _separable_terms(f, x, y)
    upper = len(terms) if terms is not None else None
    if params:
        return result(None, False, 0, f"undecided: {why}, and it has parameters", None)
    target = max_rank + 1 if upper is None else min(upper, max_rank + 1)
    for k in range(1, target + 1):
        found = False
        for attempt in range(4):
            _check_deadline()
            if attempt == 0:  # interleaved y_0 < x_0 < y_1 < ...: triangular kernels
                xs = [sp.Rational(4 * i + 3, 7) for i in range(k)]
                ys = [sp.Rational(4 * j + 1, 7) for j in range(k)]
            else:
                xs = [sp.Rational(rng.randint(-60, 60), rng.randint(11, 29)) for _ in range(k)]
                ys = [sp.Rational(rng.randint(-60, 60), rng.randint(11, 29)) for _ in range(k)]
            fmat = sp.Matrix([[f.subs({x: xv, y: yv}) for yv in ys] for xv in xs])
            if _certify_nonzero_det(fmat, rng, tries=1):
                found = True
                break
        if not found:
            break
        state["lower"] = k
    lower = state["lower"]
    how = f"{why}; a non-singular {lower}x{lower} matrix of sampled values f(x_k, y_l) proves "
    how += f"rank >= {lower}"
    if upper is not None and lower == upper:
        return result(upper, True, lower, how + f", f is a sum of {upper} products",
                      tuple(terms) if terms else ())
    if lower > max_rank:
        return result(None, True, lower, how + f": rank > {max_rank}", None)
    if upper is not None:
        how += f"; f is a sum of {upper} products, so rank <= {upper}"
    return result(None, False, lower, "undecided: " + how, None)


def _wronskian_vanishes(w: Any) -> bool:
    import sympy as sp

    red = _reduce(w)
    if red.dm is not None:
        det = red.dm.det()
        if not det:
            return True
        if red.exact:
            return False
    expr = w.det(method="berkowitz")
    if sp.count_ops(expr) > 5000:
        return False
    return bool(sp.simplify(expr) == 0)


_POINTS = (0, 1, -1, 2, Fraction(1, 2), -2, 3)


def _function_factors(f: Any, x: Any, y: Any, r: int, rng: random.Random) -> Any:
    import sympy as sp

    if r == 0:
        return ()
    cands = [sp.Rational(Fraction(p).numerator, Fraction(p).denominator) for p in _POINTS]
    for sx in range(len(cands) - r + 1):
        for sy in range(len(cands) - r + 1):
            xs, ys = cands[sx : sx + r], cands[sy : sy + r]
            fmat = sp.Matrix([[f.subs({x: xk, y: yl}) for yl in ys] for xk in xs])
            if any(v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) for v in fmat):
                continue
            if not _certify_nonzero_det(fmat, rng):
                continue
            finv = fmat.inv()
            out = []
            for l_ in range(r):
                # sympy.simplify costs seconds here; factor_terms + powsimp keep it readable
                g = sp.powsimp(sp.factor_terms(f.subs(y, ys[l_])))
                h = sum((finv[l_, k] * f.subs(x, xs[k]) for k in range(r)), sp.S.Zero)
                out.append((g, sp.powsimp(sp.factor_terms(h))))
            return tuple(out)
    return None


def _verify_numeric(
    kernel: Any, numeric_rank: int, tol: float, *, time_limit: float | None = DEFAULT_TIME_LIMIT
) -> dict[str, Any]:
    """Cross-check a numeric rank against the exact rank of the kernel *as given*.

    `kernel` is the caller's data, not a float64 copy: integers of any width
    (and object arrays of Python ints), ``Fraction``, ``Decimal`` and every
    float type (each float at its exact binary value, longdouble included)
    are used exactly.  Returns ``{"exact_rank": int | None, "agrees": bool,
    "explanation": str}``; ``exact_rank`` is None when the time limit was reached.
    """
    try:
        r = exact_rank(kernel, time_limit=time_limit)
    except ValueError as exc:
        return {"exact_rank": None, "agrees": False, "explanation": f"exact rank undecided: {exc}"}
    r = int(r)
    agrees = r == int(numeric_rank)
    if agrees:
        text = f"the exact rank {r} of the matrix as given agrees with the numeric rank."
    elif r > numeric_rank:
        text = (
            f"exactly rank {r}: the matrix as given (each float at its exact binary value) "
            f"is a sum of no fewer than {r} outer products; numerically rank {numeric_rank}: "
            f"it is within the tolerance {tol:g} of a rank-{numeric_rank} matrix, so for "
            f"filtering in floating point a rank-{numeric_rank} factorisation is "
            "indistinguishable from it."
        )
    else:
        text = (
            f"exactly rank {r} but numerically rank {numeric_rank} at tolerance {tol:g}: the "
            "numeric verdict counts singular values above the tolerance and cannot exceed "
            "the exact rank unless rounding errors exceed it; raise the tolerance."
        )
    return {"exact_rank": r, "agrees": agrees, "explanation": text}
