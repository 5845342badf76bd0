"""Rich renderings of proposals, approval requests and apply reports.

Every table stays readable in an 80-column terminal and when piped: cells wrap (words longer than
the column fold) instead of being cut with "…", gids and ids are never wrapped nor cut, and when
the longest words do not fit side by side the low-value columns merge into others or go. Piped
or redirected output is `PIPE_WIDTH` columns wide (or $COLUMNS), not rich's 80-column guess
(`fit_width`).
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import Markdown, MarkdownElement, TableElement
from rich.markup import escape
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from service.db.proposals import ProposalRecord

# Width of output that goes to a file or a pipe (no terminal to ask), unless $COLUMNS says.
PIPE_WIDTH = 100
# Free text an action carries (a comment's body): its length is shown, `--json` has all of it.
_PROSE_PARAMS = {"text", "html_text", "html_notes", "content"}
# When the longest words of a table do not fit side by side, longer ones fold (`fit_columns`).
_FOLD_AT = 12


class CliConsole(Console):
    """The CLI's console: a table built without `add_column` (the evals' wide tables) is printed
    readable at any width: cells fold instead of being cut with "…", and a table whose longest
    words cannot sit side by side is printed as one block of `header: value` lines per row."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(readable(o, self.width) if isinstance(o, Table) else o for o in objects), **kwargs)


def readable(table: Table, width: int) -> RenderableType:
    """`table` with folding cells sized for `width`, or its rows as records when even its words
    do not fit. A table whose columns already choose their overflow (`add_column`, sized by
    `fit_columns` or `wide_or_narrow`) is left as it is."""
    if not table.columns or any(column.overflow != "ellipsis" for column in table.columns):
        return table
    for column in table.columns:
        column.overflow = "fold"
    if fit_columns(table, width):
        return table
    return as_records(table)


def as_records(table: Table) -> RenderableType:
    """One `header: value` line per cell, rows apart (like psql's expanded display)."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    headers = [" ".join(str(column.header).split()) for column in table.columns]
    cells = [list(column.cells) for column in table.columns]
    for row in range(table.row_count):
        if row:
            grid.add_row("", "")
        for header, column_cells in zip(headers, cells, strict=True):
            grid.add_row(f"{header}:", column_cells[row] if row < len(column_cells) else "")
    if table.title is None:
        return grid
    title = table.title if isinstance(table.title, Text) else Text(str(table.title))
    return Group(Text(title.plain, style="italic"), grid)


console = CliConsole()


def output_width(stream: Any = None) -> int:
    """$COLUMNS when set, else the terminal's width, else `PIPE_WIDTH` (not a terminal)."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = sys.stdout if stream is None else stream
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        pass
    return PIPE_WIDTH


def fit_width(target: Console | None = None) -> None:
    """Fix a console's width for this command (`output_width` of the stream it writes to)."""
    con = console if target is None else target
    con.width = output_width(con.file)


def make_console(*, stderr: bool = False) -> Console:
    """A console for a command's own output, sized like the shared one."""
    con = CliConsole(stderr=stderr)
    fit_width(con)
    return con


def add_column(table: Table, header: str, *, ident: bool = False, **kwargs: Any) -> None:
    """A column whose cells wrap instead of being cut; `ident` (gids, ids): never wrapped or cut."""
    table.add_column(header, overflow="fold", no_wrap=ident, **kwargs)


def fit_columns(table: Table, width: int | None = None) -> bool:
    """Size `table`'s columns for `width` (default: the console's): every column keeps at least
    its longest word (an `ident` column all of its text) and the room left goes to the columns
    with the most text to wrap. False when even the longest words do not fit side by side; the
    columns are then sized so that only words longer than `_FOLD_AT` (URLs, JSON) fold, never an
    `ident` column nor a column's `min_width` (give one to a wrapping column that holds gids).

    Rich's own squeeze cuts words in two, ids included, when a table is too wide.
    """
    room = (console.width if width is None else width) - _chrome_width(table)
    options = console.options.update_width(10_000)
    lows, highs = [], []
    for column in table.columns:
        sizes = [Measurement.get(console, options, cell) for cell in [column.header, *column.cells]]
        high = max(m.maximum for m in sizes)
        lows.append(high if column.no_wrap else max(m.minimum for m in sizes))
        highs.append(high)
    if sum(highs) <= room:
        return True
    fits = sum(lows) <= room
    if not fits:
        lows = [
            low if column.no_wrap else max(column.min_width or 0, min(low, _FOLD_AT))
            for column, low in zip(table.columns, lows, strict=True)
        ]
        if sum(lows) > room:
            return False
    spare = room - sum(lows)
    wants = [high - low for low, high in zip(lows, highs, strict=True)]
    for column, low, want in zip(table.columns, lows, wants, strict=True):
        column.width = low + spare * want // max(1, sum(wants))
    return fits


def _chrome_width(table: Table) -> int:
    """Borders and cell padding: what a table takes beyond its cells' text."""
    left, right = table.padding[3], table.padding[1]
    borders = ((2 if table.show_edge else 0) + len(table.columns) - 1) if table.box else 0
    return borders + (left + right) * len(table.columns)


def wide_or_narrow(build: Callable[[bool], Table], width: int | None = None) -> Table:
    """`build(False)` (every column) when its words fit in `width`, else `build(True)`, the
    layout that merges or drops low-value columns for a narrow terminal (sized by `fit_columns`
    even when some long words must fold)."""
    wide = build(False)
    if fit_columns(wide, width):
        return wide
    narrow = build(True)
    fit_columns(narrow, width)
    return narrow


class _FoldingTable(TableElement):
    """A markdown table whose cells wrap like `add_column`'s (rich's own cut long words)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = [self.header.row] if self.header is not None and self.header.row is not None else []
        rows += self.body.rows if self.body is not None else []
        for row in rows:
            for cell in row.cells:
                cell.content.overflow = "fold"
        yield from super().__rich_console__(console, options)


class CliMarkdown(Markdown):
    """Markdown as the CLI prints it (agents' summaries, apply reports): tables never cut cells,
    and text in angle brackets is shown, not dropped as HTML ("openai:<model>", "List<String>")."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {**Markdown.elements, "table_open": _FoldingTable}

    def __init__(self, markup: str, **kwargs: Any) -> None:
        super().__init__(markup, **kwargs)
        for token in self.parsed:
            if token.type == "html_block":
                token.type = "code_block"  # shown as written
            for child in token.children or ():
                if child.type == "html_inline":
                    child.type = "text"


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)


def change_of(args: dict[str, Any]) -> str:
    """What an action changes, in full: one `name: value` line per parameter (a comment's body
    is summarised by its length)."""
    params = args.get("params") or {}
    if "field" in params:
        return f"{params['field']} = {_value(params.get('value'))}"
    lines = [
        f"{k}: {len(str(v))} characters" if k in _PROSE_PARAMS else f"{k}: {_value(v)}"
        for k, v in params.items()
    ]
    return "\n".join(lines) or "-"


def approval_table(request: dict[str, Any], *, limit: int | None = None, width: int | None = None) -> Table:
    """The actions waiting for approval, by action number (what `--reject-action N` and
    `--edit N=JSON` take). In a narrow terminal the reason goes under the change."""
    return wide_or_narrow(lambda narrow: _approval_table(request, limit, narrow), width)


def _approval_table(request: dict[str, Any], limit: int | None, narrow: bool) -> Table:
    from graphs.gate import action_numbers, action_requests_of  # on use: keeps `--help` light

    rows = action_requests_of(request)
    numbers = action_numbers(request)
    table = Table(title=f"Actions waiting for approval ({len(rows)})", show_lines=narrow)
    add_column(table, "#", ident=True, justify="right")
    add_column(table, "action")
    add_column(table, "target", ident=True)
    add_column(table, "change · why" if narrow else "change")
    if not narrow:
        add_column(table, "why")
    shown = list(zip(numbers, rows, strict=True))
    if limit is not None:
        shown = shown[:limit]
    for n, req in shown:
        args = req.get("args") or {}
        why = escape(str(req.get("description") or "").split(" (policy:")[0])
        change = escape(change_of(args))
        cells = [str(n), escape(str(req.get("name", ""))), escape(str(args.get("target") or "-"))]
        cells += [f"{change}\n[dim]{why}[/]"] if narrow else [change, why]
        table.add_row(*cells)
    notes = []
    if limit is not None and len(rows) > limit:
        kinds = Counter(r.get("name") for r in rows[limit:])
        rest = ", ".join(f"{c}× {k}" for k, c in sorted(kinds.items()))
        notes.append(f"+{len(rows) - limit} more ({rest}): `sprintpilot approvals show` lists all")
    if numbers != list(range(1, len(numbers) + 1)):
        notes.append("missing numbers are actions that apply without approval")
    table.caption = escape("; ".join(notes)) if notes else None
    return table


def show_request(request: dict[str, Any], *, limit: int | None = None, summary: bool = True) -> None:
    title = request.get("title", "proposal")
    pid = str(request.get("proposal_id", ""))
    console.print(
        Panel.fit(
            f"[bold]{escape(str(title))}[/]\nproposal {pid[:12]} · agent {request.get('agent')}",
            title="proposal",
        )
    )
    if summary and request.get("summary_markdown"):
        console.print(CliMarkdown(request["summary_markdown"]))
    console.print(approval_table(request, limit=limit))
    if request.get("approval_task_gid"):
        console.print(f"Approval task in Asana: [bold]{request['approval_task_gid']}[/]")
    if request.get("error"):
        console.print(f"[yellow]previous answer refused:[/] {request['error']}")


def proposals_table(records: list[ProposalRecord], *, width: int | None = None) -> Table:
    """Proposals; in a narrow terminal the agent, action count and engine go under the title."""
    return wide_or_narrow(lambda narrow: _proposals_table(records, narrow), width)


def _proposals_table(records: list[ProposalRecord], narrow: bool) -> Table:
    table = Table(title="Proposals")
    add_column(table, "id", ident=True, min_width=12)
    if not narrow:
        add_column(table, "agent")
    add_column(table, "title")
    add_column(table, "status")
    if not narrow:
        add_column(table, "actions", justify="right")
        add_column(table, "engine")
    add_column(table, "approval task", ident=True)
    add_column(table, "created", ident=True)
    for p in records:
        title = escape(p.title)
        status = str(p.status).replace("_", " ")
        created = p.created_at.strftime("%m-%d %H:%M" if narrow else "%Y-%m-%d %H:%M")
        task = p.approval_task_gid or "-"
        if narrow:
            detail = escape(f"{p.agent} · {len(p.proposal.actions)} actions · {p.model}")
            table.add_row(p.id[:12], f"{title}\n[dim]{detail}[/]", status, task, created)
        else:
            actions = str(len(p.proposal.actions))
            table.add_row(p.id[:12], p.agent, title, status, actions, escape(p.model), task, created)
    return table


def show_report(report: dict[str, Any] | None) -> None:
    if not report:
        console.print("[yellow]no report[/]")
        return
    status = report.get("status", "?")
    color = {"done": "green", "applied": "green", "error": "red"}.get(str(status), "yellow")
    label = "nothing to write" if status == "empty" else str(status)
    console.print(f"[bold {color}]run {label}[/]")
    if report.get("markdown"):
        console.print(CliMarkdown(str(report["markdown"])))
    elif report.get("message"):
        console.print(str(report["message"]))


def finish_run(
    outcome: Any,
    thread_id: str,
    calls: Any,
    *,
    as_json: bool,
    approve_hint: str,
    answer: dict[str, Any] | None = None,
) -> None:
    """Print a run's outcome the same way for every agent command; exit 1 when the run failed.

    `answer` (the proposal's summary and evidence) comes first: what the agent found, then what it
    wrote or asks to write. `approve_hint` follows the approval table; `{pid}` becomes the id.
    """
    import dataclasses

    import typer

    if as_json:
        payload = {
            "thread_id": thread_id,
            "status": outcome.status,
            "approval_request": outcome.interrupt,
            "report": outcome.report,
            "answer": answer,
            "asana_calls": dataclasses.asdict(calls),
        }
        typer.echo(json.dumps(payload, indent=2, default=str, sort_keys=True))
        if outcome.status == "error":
            raise typer.Exit(1)
        return
    if outcome.status == "error":
        show_report(outcome.report)
        raise typer.Exit(1)
    if outcome.interrupt:
        show_request(outcome.interrupt, limit=15)
        pid = str(outcome.interrupt.get("proposal_id", ""))[:12]
        console.print("\n" + approve_hint.format(pid=pid))
    else:
        if answer is not None and answer.get("summary_markdown"):
            console.print(CliMarkdown(str(answer["summary_markdown"])))
        show_report(outcome.report)
