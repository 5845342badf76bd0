"""Configurable, safe priority-score formulas.

A formula is ordinary arithmetic over named item fields, e.g. the seed's default

    (business_value * 0.6) / (effort * 0.4)

(also accepted verbatim as ``(Business Value × 0.6) / (Effort × 0.4)``). It is parsed with
:mod:`ast` and evaluated by walking the tree ourselves: only numbers, the fields below,
``+ - * / **``, unary ``+``/``-`` and the functions ``min``, ``max``, ``log``, ``sqrt``, ``abs``
are accepted. Attribute access, subscripts, strings, lambdas, comprehensions and any other
call are rejected at parse time, so nothing the user types is ever executed as Python.

Fields: ``business_value``, ``effort``, ``points``, ``priority_rank`` (Critical 4, High 3,
Medium 2, Low 1) and ``age_days`` (days since ``created_at``, needs ``today``).

Problems never raise per item: a missing field or an arithmetic error (division by zero, log of
a non-positive number, overflow) gives the item score 0 with a flag (``missing="zero"``, the
default, so it can still be pulled in as somebody's prerequisite) or excludes it with the reason
(``missing="exclude"``).
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Literal

from tools.errors import UserError
from tools.planning.models import BacklogItem, ItemScore

DEFAULT_FORMULA = "(business_value * 0.6) / (effort * 0.4)"

PRIORITY_RANK: dict[str, float] = {"critical": 4.0, "high": 3.0, "medium": 2.0, "low": 1.0}

FIELDS: frozenset[str] = frozenset({"business_value", "effort", "points", "priority_rank", "age_days"})

_FUNCTIONS: dict[str, tuple[Callable[..., float], int, int]] = {
    # name -> (implementation, min args, max args)
    "min": (min, 1, 8),
    "max": (max, 1, 8),
    "log": (math.log, 1, 2),
    "sqrt": (math.sqrt, 1, 1),
    "abs": (abs, 1, 1),
}

_BINOPS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: math.pow(a, b),  # float pow: overflows raise instead of building huge ints
}
_OP_TEXT = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

# Display names as they appear in Asana / the seed text, mapped onto field names.
_ALIASES: list[tuple[str, str]] = [
    ("business value", "business_value"),
    ("story points", "points"),
    ("priority rank", "priority_rank"),
    ("priority", "priority_rank"),
    ("effort", "effort"),
    ("age days", "age_days"),
    ("age", "age_days"),
]

MAX_FORMULA_CHARS = 400
MAX_NODES = 200


class FormulaError(UserError, ValueError):
    """The formula text is not an allowed arithmetic expression."""


def normalise_formula(text: str) -> str:
    """Map display names ("Business Value") and typographic operators (×, ÷, −) to the syntax."""
    out = text.replace("×", "*").replace("÷", "/").replace("−", "-")
    for display, field in _ALIASES:
        pattern = r"(?<![A-Za-z_])" + r"\s+".join(map(re.escape, display.split())) + r"(?![A-Za-z_])"
        out = re.sub(pattern, field, out, flags=re.IGNORECASE)
    return out


class Formula:
    """A validated formula; evaluate it with :meth:`evaluate` on a field mapping."""

    def __init__(self, text: str = DEFAULT_FORMULA) -> None:
        if len(text) > MAX_FORMULA_CHARS:
            raise FormulaError(f"formula longer than {MAX_FORMULA_CHARS} characters")
        self.source = text
        self.text = normalise_formula(text)
        try:
            tree = ast.parse(self.text, mode="eval")
        except (SyntaxError, RecursionError, ValueError) as exc:
            raise FormulaError(f"cannot parse formula {text!r}: {exc}") from exc
        nodes = list(ast.walk(tree))
        if len(nodes) > MAX_NODES:
            raise FormulaError(f"formula has more than {MAX_NODES} syntax nodes")
        self._tree = tree.body
        self.fields: frozenset[str] = frozenset()
        fields: set[str] = set()
        self._check(self._tree, fields)
        self.fields = frozenset(fields)

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"

    def _check(self, node: ast.AST, fields: set[str]) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise FormulaError(f"only numeric constants are allowed, got {node.value!r}")
        elif isinstance(node, ast.Name):
            if node.id not in FIELDS:
                raise FormulaError(f"unknown name {node.id!r}; allowed fields: {', '.join(sorted(FIELDS))}")
            fields.add(node.id)
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise FormulaError(f"operator {type(node.op).__name__} is not allowed")
            self._check(node.left, fields)
            self._check(node.right, fields)
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.UAdd | ast.USub):
                raise FormulaError(f"operator {type(node.op).__name__} is not allowed")
            self._check(node.operand, fields)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
                raise FormulaError(f"only the functions {', '.join(sorted(_FUNCTIONS))} may be called")
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise FormulaError("keyword and starred arguments are not allowed")
            _, lo, hi = _FUNCTIONS[node.func.id]
            if not lo <= len(node.args) <= hi:
                raise FormulaError(f"{node.func.id}() takes {lo}..{hi} arguments")
            for arg in node.args:
                self._check(arg, fields)
        else:
            raise FormulaError(f"{type(node).__name__} is not allowed in a score formula")

    def evaluate(self, values: Mapping[str, float]) -> float:
        """Evaluate on field values; raises KeyError for a missing field, ArithmeticError/ValueError
        for maths problems (callers turn those into per-item flags)."""
        result = self._eval(self._tree, values)
        if math.isnan(result) or math.isinf(result):
            raise ArithmeticError("result is not a finite number")
        return result

    def _eval(self, node: ast.AST, values: Mapping[str, float]) -> float:
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float):
                raise FormulaError("only numeric constants are allowed")  # unreachable after _check
            return float(node.value)
        if isinstance(node, ast.Name):
            return float(values[node.id])
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, values), self._eval(node.right, values))
        if isinstance(node, ast.UnaryOp):
            v = self._eval(node.operand, values)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)  # guaranteed by _check
            fn = _FUNCTIONS[node.func.id][0]
            return float(fn(*(self._eval(a, values) for a in node.args)))
        raise FormulaError(f"{type(node).__name__} is not allowed")  # unreachable after _check


def field_values(item: BacklogItem, today: date | None = None) -> dict[str, float | None]:
    """The formula fields of one item (None where the item does not carry the value)."""
    rank = PRIORITY_RANK.get((item.priority or "").strip().lower())
    age: float | None = None
    if item.created_at is not None and today is not None:
        age = float(max((today - item.created_at.date()).days, 0))
    return {
        "business_value": item.business_value,
        "effort": item.effort,
        "points": item.points,
        "priority_rank": rank,
        "age_days": age,
    }


def _fmt(v: float | None) -> str:
    if v is None:
        return "missing"
    return f"{v:g}"


def score_item(
    item: BacklogItem,
    formula: Formula,
    *,
    missing: Literal["zero", "exclude"] = "zero",
    today: date | None = None,
) -> ItemScore:
    values = field_values(item, today)
    used = {k: values[k] for k in sorted(formula.fields)}
    shown = ", ".join(f"{k}={_fmt(v)}" for k, v in used.items())
    absent = [k for k, v in used.items() if v is None]
    problem: str | None = None
    score = 0.0
    if absent:
        problem = "missing " + ", ".join(absent)
    else:
        try:
            score = formula.evaluate({k: float(v) for k, v in used.items() if v is not None})
        except ZeroDivisionError:
            problem = "division by zero"
        except (ArithmeticError, ValueError) as exc:  # log(0), sqrt(-1), overflow, non-finite
            problem = f"arithmetic error: {exc}"
    if problem is None:
        return ItemScore(
            gid=item.gid, score=score, explanation=f"{formula.text} with {shown} = {score:.4g}", inputs=used
        )
    excluded = missing == "exclude"
    return ItemScore(
        gid=item.gid,
        score=0.0,
        explanation=f"{formula.text} with {shown}: {problem}; {'excluded' if excluded else 'scored 0'}",
        inputs=used,
        flags=[problem],
        excluded=excluded,
        reason=f"score not computable: {problem}" if excluded else None,
    )


def score_items(
    items: Sequence[BacklogItem],
    formula: str | Formula = DEFAULT_FORMULA,
    *,
    missing: Literal["zero", "exclude"] = "zero",
    today: date | None = None,
) -> list[ItemScore]:
    """Score every item; raises FormulaError only when the formula itself is not allowed."""
    f = formula if isinstance(formula, Formula) else Formula(formula)
    _probe(f)
    return [score_item(item, f, missing=missing, today=today) for item in items]


def _probe(formula: Formula) -> None:
    """Refuse a formula that fails whatever the values ("1/0", "9**9**9", "x / (x - x)"): each item
    would score 0 and the plan would be silently empty. An item's own values (effort 0) only
    flag that item."""
    problem: BaseException | None = None
    for value in (1.0, 7.3):  # two probes: "log(effort - 1)" fails at 1 only, for some data only
        try:
            formula.evaluate(dict.fromkeys(formula.fields, value))
            return
        except (ArithmeticError, ValueError) as exc:
            problem = exc
    if isinstance(problem, ZeroDivisionError):
        raise FormulaError(f"the formula {formula.text!r} divides by zero whatever the values")
    raise FormulaError(f"the formula {formula.text!r} cannot be computed: {problem}")
