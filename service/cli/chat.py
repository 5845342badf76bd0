"""`sprintpilot chat [--thread ID]`: an interactive terminal conversation with the supervisor.

Streams the model's tokens as they come, shows specialists' results, and puts approval requests
inline (the action table, then `approve` / `edit N {json}` / `reject [reason]`). `/quit` ends
the session; the same `--thread` later (any process) continues the conversation. Whatever fails
during a turn is one `error:` line, never a traceback, and the next line is read as usual.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from graphs.chat import ChatEvent, ChatSession
from service.cli.errors import friendly
from service.cli.render import CliMarkdown, approval_table, make_console

log = logging.getLogger(__name__)

QUIT = {"/quit", "/exit", "quit", "exit"}
INTRO = "Talk to sprintpilot. `help` lists commands, `/quit` leaves (the thread is kept)."


def render_event(console: Console, event: ChatEvent, *, streaming: list[bool]) -> None:
    """Print one chat event; `streaming[0]` tracks whether tokens are mid-line."""
    data = event.data
    if event.kind == "token":
        console.print(data["text"], end="", markup=False, highlight=False, soft_wrap=True)
        streaming[0] = True
        return
    if streaming[0]:
        console.print()
        streaming[0] = False
    if event.kind == "message":
        if not data.get("streamed"):
            console.print(CliMarkdown(data.get("content") or ""))
    elif event.kind == "tool":
        result = data.get("result") or {}
        if result:
            status = str(result.get("status", "")).replace("_", " ")
            console.print(f"[dim]· {result.get('agent')}: {result.get('title')} — {status}[/]")
        else:
            console.print(f"[yellow]· {data.get('name')}: {data.get('content')}[/]")
    elif event.kind == "approval":
        request = data["request"]
        console.print(Panel(CliMarkdown(request.get("summary_markdown") or ""), title=request.get("title")))
        if request.get("error"):
            console.print(f"[red]previous answer refused:[/] {request['error']}")
        console.print(approval_table(request, width=console.width))
        console.print(
            r"[bold]approve[/] \[all|N,M] · [bold]edit[/] N {json} · [bold]reject[/] \[all|N,M] \[reason]"
        )
    elif event.kind == "error":
        console.print(f"[bold red]error:[/] {data.get('message')}")
    else:
        console.print(data.get("message") or "")


def chat_loop(session: ChatSession, read_line: Callable[[str], str | None], console: Console) -> int:
    """Read lines until EOF or /quit; returns the number of turns sent. No TTY needed (tests)."""
    console.print(f"[dim]{INTRO} thread: {session.thread_id}[/]")
    request = session.pending()
    if request is not None:
        render_event(console, ChatEvent("approval", {"request": request}), streaming=[False])
    turns = 0
    while True:
        line = read_line("you › ")
        if line is None or line.strip().lower() in QUIT:
            console.print(f"[dim]bye — continue with `sprintpilot chat --thread {session.thread_id}`[/]")
            return turns
        if not line.strip():
            continue
        turns += 1
        streaming = [False]
        try:
            for event in session.send(line):
                render_event(console, event, streaming=streaming)
        except Exception as err:  # noqa: BLE001 - one line, and the conversation goes on
            log.debug("chat turn failed", exc_info=True)  # the traceback with SPRINTPILOT_DEBUG=1
            if streaming[0]:
                console.print()
                streaming[0] = False
            reason = " ".join(str(err).split()) or type(err).__name__
            console.print(
                f"[bold red]error:[/] {escape(reason)} (the conversation is kept; try again)",
                soft_wrap=True,
            )
        if streaming[0]:
            console.print()


def _read_line(console: Console) -> Callable[[str], str | None]:
    def read(prompt: str) -> str | None:
        try:
            return console.input(f"[bold cyan]{prompt}[/]")
        except (EOFError, KeyboardInterrupt):
            return None

    return read


@friendly
def chat(
    thread: Annotated[str | None, typer.Option("--thread", help="Continue this conversation.")] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="The Asana user chatting (email or gid): the chat sees what they see in Asana, and "
            "they approve if they are an approver. Default: the service account.",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the embedded DB and sandbox state live.")
    ] = None,
) -> None:
    """Chat with the supervisor: questions, specialist runs and approvals in one conversation."""
    from service.chat_runtime import chat_session
    from service.runtime import open_runtime
    from service.settings import load_settings

    settings = load_settings(**({"data_dir": data_dir} if data_dir is not None else {}))
    console = make_console()
    with open_runtime(settings) as rt:
        me = rt.asana.me()
        session = chat_session(rt, thread or uuid.uuid4().hex, user or me.email or me.gid)
        chat_loop(session, _read_line(console), console)
