"""Composition of the chat graph: its configuration, the compiled graph over a Runtime, and the
graph factory that `langgraph.json` names for `langgraph dev` / LangChain's Agent Chat UI.

Chat settings (env, read here so service/settings.py stays untouched):
- SPRINTPILOT_CHAT_APPROVERS: comma-separated Asana users (emails or gids) allowed to approve in
  chat. Empty: SPRINTPILOT_APPROVERS, else SPRINTPILOT_APPROVER; none set: nobody approves in chat
  (the proposal's Asana approval task decides).
- SPRINTPILOT_CHAT_UI_USER: the Asana user (email or gid) Agent Chat UI acts for (it sends no
  user of its own): what the UI may see, and who its decisions are recorded as; without it,
  decisions from that UI are refused.
- SPRINTPILOT_CHAT_HISTORY_CHARS: how much of the conversation (characters, ~4 per token) the
  model is sent each call; earlier tool results are shortened, then the oldest turns left out.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from graphs.chat import Approvers, ChatSession, build_chat_graph
from graphs.chat.graph import DEFAULT_HISTORY_CHARS
from graphs.visibility import Person
from tools.llm.factory import make_chat_model
from tools.llm.usage import ModelCall, recorder_of

PersonLookup = Callable[[str], Person | None]

if TYPE_CHECKING:
    from service.runtime import Runtime
    from service.settings import Settings


class ChatConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SPRINTPILOT_CHAT_", extra="ignore")

    approvers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    ui_user: str | None = None
    max_rounds: int = Field(default=6, ge=1, le=20)
    # Characters of the conversation sent to the model (graphs/chat/history.py `fit_history`).
    history_chars: int = Field(default=DEFAULT_HISTORY_CHARS, ge=2_000, le=1_000_000)

    @field_validator("approvers", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # NoDecode hands over the raw env string: "alice, bob" → ["alice", "bob"].
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    def approver_set(self, settings: Settings, people: PersonLookup | None = None) -> Approvers:
        """Asana identities allowed to decide in chat; none configured: nobody (graphs/approvers.py)."""
        if self.approvers:
            return Approvers.only(self.approvers, people)
        if settings.approvers:
            return Approvers.only(settings.approvers, people)
        if settings.approver:
            return Approvers.only([settings.approver], people)
        return Approvers.only([], people)


def people_of(rt: Runtime) -> PersonLookup:
    """Resolve an email or gid to a user of the runtime's workspace (cached by the directory)."""

    def find(ref: str) -> Person | None:
        return rt.directory.find(rt.resolve_workspace(), ref)

    return find


def chat_model(settings: Settings) -> Any:
    """The supervisor's chat model from settings (bounded by the model timeout and retries), or
    None (offline command grammar)."""
    key = settings.model_api_key.get_secret_value() if settings.model_api_key else None
    return make_chat_model(
        settings.model,
        api_key=key,
        base_url=settings.model_base_url,
        timeout=settings.model_timeout_s,
        max_retries=settings.model_max_retries,
    )


def chat_graph(rt: Runtime, *, model: Any = None, config: ChatConfig | None = None) -> Any:
    """The chat graph compiled with the runtime's checkpointer (`Runtime.chat_graph` when present)."""
    existing = getattr(rt, "chat_graph", None)
    if existing is not None and model is None:
        return existing
    cfg = config or ChatConfig()
    if model is None:
        model = chat_model(rt.settings)
    rt.record_model_calls(model)
    graph = build_chat_graph(
        rt.registry,
        model=model,
        approvers=cfg.approver_set(rt.settings, people_of(rt)),
        default_decider=f"chatui:{cfg.ui_user}" if cfg.ui_user else None,
        max_rounds=cfg.max_rounds,
        breaker_failures=rt.settings.model_breaker_failures,
        history_chars=cfg.history_chars,
    )
    return graph.compile(checkpointer=rt.graph.checkpointer)


def chat_session(
    rt: Runtime, thread_id: str, user: str, *, model: Any = None, config: ChatConfig | None = None
) -> ChatSession:
    """A conversation for `user`, an Asana user of the workspace (email or gid): unknown
    identities are refused (UnknownPerson), and the chat sees only what that user can see."""
    cfg = config or ChatConfig()
    ws = rt.resolve_workspace()
    person = rt.person(user, ws)
    graph = chat_graph(rt, model=model, config=cfg)

    def context() -> Any:
        approver = rt.approver_for(ws, None) if ws else None
        return rt.context(actor=f"chat:{person.label}", approver_gid=approver, viewer=rt.viewer(person))

    def supersede(thread: str) -> None:
        from service.approvals import supersede_older

        supersede_older(rt, thread)

    return ChatSession(
        graph,
        context,
        thread_id,
        person.label,
        approvers=cfg.approver_set(rt.settings, people_of(rt)),
        on_new_approval=supersede,
    )


# --- `langgraph dev` ---------------------------------------------------------------------------

_lock = threading.Lock()
_open: dict[str, Any] = {}


def _process_runtime() -> Runtime:
    """One runtime per server process, opened on first use and closed at exit."""
    with _lock:
        if "rt" not in _open:
            from service.runtime import hold_runtime
            from service.settings import load_settings

            _open["stack"], _open["rt"] = hold_runtime(load_settings())
            atexit.register(close_process_runtime)
        rt: Runtime = _open["rt"]
        return rt


def close_process_runtime() -> None:
    """Close the runtime `make_graph` opened (at exit, or in tests)."""
    with _lock:
        stack = _open.pop("stack", None)
        _open.pop("rt", None)
    if stack is not None:
        stack.close()


def _record_in_process_runtime(call: ModelCall) -> None:
    """Store a supervisor call of a served graph in this process's runtime (opened on first use;
    the recorder runs in the node's worker thread, never on the server's event loop)."""
    rt = _process_runtime()
    if rt.model_calls is not None:
        rt.model_calls(call)


def _process_people(ref: str) -> Person | None:
    """Approver lookups of a served graph: inside the gate node (a worker thread), never at build."""
    return people_of(_process_runtime())(ref)


def _ui_context() -> Any:
    """The RunContext of an Agent Server run: opens this process's runtime on first use, inside a
    node (a worker thread), never in the graph factory on the server's event loop."""
    rt = _process_runtime()
    # The embedded sandbox is saved after the node that changed it, as the API does after each
    # request (apply's writes survive a server that is killed rather than stopped).
    rt.persist()
    ws = rt.resolve_workspace()
    ui_user = ChatConfig().ui_user
    # The UI's configured user is who the chat acts for; without one it sees what the service sees
    # but can decide nothing (no default decider).
    viewer = rt.viewer(rt.person(ui_user, ws)) if ui_user else None
    return rt.context(actor="chat:ui", approver_gid=rt.approver_for(ws, None), viewer=viewer)


def make_graph(config: Any = None) -> Any:
    """Graph factory for langgraph.json: the chat graph without a checkpointer (the Agent Server
    brings its own), taking its RunContext from this process's runtime when the run passes none.

    No blocking I/O here (the Agent Server calls factories on its event loop): settings, the
    registry and the model client are built without touching the network or the database.
    """
    from service.runtime import default_registry
    from service.settings import load_settings
    from service.tracing import configure_tracing

    configure_tracing()
    settings = load_settings()
    cfg = ChatConfig()
    model = chat_model(settings)
    recorder = recorder_of(model)
    if recorder is not None:
        recorder.add_listener(_record_in_process_runtime)
    return build_chat_graph(
        default_registry(),
        model=model,
        approvers=cfg.approver_set(settings, _process_people),
        default_decider=f"chatui:{cfg.ui_user}" if cfg.ui_user else None,
        context_provider=_ui_context,
        max_rounds=cfg.max_rounds,
        breaker_failures=settings.model_breaker_failures,
        history_chars=cfg.history_chars,
    ).compile()
