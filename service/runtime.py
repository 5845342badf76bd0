"""Composition root: settings → DB, Asana client, checkpointer, compiled graphs, language engine.

Process lifetime vs run lifetime: `open_runtime` builds what lives for a process (engines, pools,
the Asana client, compiled graphs, the checkpointer, the model client) once; the API builds it in
its lifespan, the worker once per process, the CLI once per command. `Runtime.context()` is the
cheap per-run part (no I/O). Everything with a connection or a thread is created here (never at
import time, never inside graphs/ or agents/), and torn down when the `open_runtime` block ends.
Migrations are not run here: only `serve`, `db migrate` and worker start run them; the embedded
SQLite default is created on first use (see `service.db.migrate.ensure_schema`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from graphs.approvers import Approvers
from graphs.asana_port import ReadOnlyAsana
from graphs.context import RunContext
from graphs.registry import SpecialistRegistry
from graphs.supervisor import build_supervisor_graph
from graphs.visibility import Person, Viewer, VisibleReads
from service.checkpoint import open_checkpointer
from service.db.audit import SqlAuditLog
from service.db.engine import make_engine
from service.db.feedback import SqlFeedback
from service.db.journal import SqlApplyJournal
from service.db.migrate import ensure_schema
from service.db.model_calls import SqlModelCalls
from service.db.proposals import SqlProposalRepository
from service.embedded import DEFAULT_SEED, EmbeddedSandbox
from service.events.index_feed import INBOX_FEED
from service.identity import Directory
from service.settings import Settings
from service.tracing import configure_tracing
from tools.asana.client import AsanaClient
from tools.asana.process_cache import forget_asana
from tools.errors import ConfigError as ConfigError  # re-exported: callers import it from here
from tools.llm.breaker import ModelBreaker
from tools.llm.engine import LanguageEngine
from tools.llm.factory import make_chat_model
from tools.llm.usage import recorder_of
from tools.paths import writable_dir_problem


def default_registry() -> SpecialistRegistry:
    """Every specialist that exists; the supervisor can only route to these."""
    from agents.ceremonies import ceremony_specialist
    from agents.dependencies import dependencies_specialist
    from agents.forecast import forecast_specialist
    from agents.health import health_specialist
    from agents.planner import planner_specialist
    from agents.qa import qa_specialist
    from agents.retro import retro_specialist, sprint_review_specialist
    from agents.scorecard import scorecard_specialist
    from agents.standup import standup_specialist
    from agents.triage import triage_specialist

    return SpecialistRegistry(
        [
            planner_specialist(),
            standup_specialist(),
            qa_specialist(
                dod_file=os.environ.get("SPRINTPILOT_DOD_FILE"), dod_dir=os.environ.get("SPRINTPILOT_DOD_DIR")
            ),
            retro_specialist(),
            triage_specialist(),
            forecast_specialist(),
            health_specialist(),
            dependencies_specialist(),
            scorecard_specialist(),
            sprint_review_specialist(),
            ceremony_specialist(),
        ]
    )


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    repo: SqlProposalRepository
    journal: SqlApplyJournal
    audit: SqlAuditLog
    asana: AsanaClient
    registry: SpecialistRegistry
    graph: Any
    language: LanguageEngine
    sandbox: EmbeddedSandbox | None = None
    # The conversational graph (graphs/chat) on the same checkpointer; set by open_runtime.
    chat_graph: Any = None
    # Every model call of this runtime's models, stored per run (tools/llm/usage.py).
    model_calls: SqlModelCalls | None = None
    _workspaces: list[str] | None = field(default=None, repr=False)
    _directory: Directory | None = field(default=None, repr=False)

    _user_clients: dict[str, AsanaClient] = field(default_factory=dict, repr=False)

    @property
    def directory(self) -> Directory:
        """People and what they can see in Asana (service/identity.py), cached for this process."""
        if self._directory is None:
            self._directory = Directory(
                self.asana, ttl_s=self.settings.visibility_ttl_s, own_client=self.user_client
            )
        return self._directory

    def user_client(self, user_gid: str) -> AsanaClient | None:
        """A read client acting as `user_gid` when they signed in with OAuth (`auth login`), so
        what they see is Asana's own answer; None otherwise (the service account's rules apply)."""
        if self.settings.token_key is None:
            return None
        if user_gid in self._user_clients:
            return self._user_clients[user_gid]
        from service.oauth.tokens import ServiceToken, TokenStore

        store = TokenStore(self.engine, self.settings)
        if store.get(user_gid) is None:
            return None
        client = AsanaClient(self.asana.base_url, ServiceToken(store, user_gid))
        self._user_clients[user_gid] = client
        return client

    def close_user_clients(self) -> None:
        for client in self._user_clients.values():
            client.close()
        self._user_clients.clear()

    def person(self, ref: str, workspace_gid: str | None = None) -> Person:
        """The Asana user a surface names (gid or email); UnknownPerson otherwise."""
        return self.directory.person(workspace_gid or self.resolve_workspace(), ref)

    def approvers(self) -> Approvers:
        """Who may decide outside Asana: SPRINTPILOT_APPROVERS, else SPRINTPILOT_APPROVER (Asana
        emails or gids, matched as the same person either way); none: only Asana's approval task
        (and the operator's terminal) decides."""
        refs = self.settings.approvers or ([self.settings.approver] if self.settings.approver else [])
        return Approvers.only(refs, lambda ref: self.directory.find(self.resolve_workspace(), ref))

    def viewer(self, person: Person) -> Viewer:
        """What `person` can see across the allowed workspaces."""
        return self.directory.viewer(self.allowed_workspaces(), person)

    @property
    def engine_label(self) -> str:
        return self.settings.model

    def allowed_workspaces(self) -> list[str]:
        if self.settings.allowed_workspaces:
            return list(self.settings.allowed_workspaces)
        if self._workspaces is None:
            self._workspaces = [w.gid for w in self.asana.workspaces()]
            if not self._workspaces:
                raise ConfigError("the Asana token sees no workspace")
        return self._workspaces

    def approver_for(self, workspace_gid: str, project_ref: str | None) -> str | None:
        """The configured approver, else the owner of the project the run is about."""
        if self.settings.approver:
            # A gid is taken as given (Asana refuses an assignee that is not a user); an email is looked up.
            if self.settings.approver.isdigit():
                return self.settings.approver
            found = self.directory.find(workspace_gid, self.settings.approver)
            return found.gid if found is not None else None
        if project_ref:
            try:
                project = self.asana.find_project(workspace_gid, project_ref)
            except Exception:  # noqa: BLE001 - the specialist reports a bad project itself
                return None
            if project.owner:
                return project.owner.gid
        # Else the first configured approver who is an Asana user (chat proposals name no project).
        for ref in self.settings.approvers:
            person = self.directory.find(workspace_gid, ref)
            if person is not None:
                return person.gid
        return None

    def record_model_calls(self, model: Any) -> None:
        """Store the calls of `model` (one made by tools/llm/factory.py) in this runtime's database."""
        recorder = recorder_of(model)
        if recorder is not None and self.model_calls is not None:
            recorder.add_listener(self.model_calls)

    def persist(self) -> None:
        """Save the embedded sandbox if a request changed it (long-lived processes call this)."""
        if self.sandbox is not None:
            self.sandbox.save_if_changed()

    def share_call_totals(self) -> None:
        """Count this process's Asana calls into the Redis totals that `/metrics` reports."""
        from service.metrics import RedisCallTotals

        self.asana.calls.listeners.append(RedisCallTotals(self.settings.redis_url))

    def context(
        self, *, actor: str = "sprintpilot", approver_gid: str | None = None, **extra: Any
    ) -> RunContext:
        """A per-run context over the process-lived parts (cheap: no I/O beyond a cached lookup)."""
        workspaces = self.allowed_workspaces()
        policy = self.settings.approval_policy
        reads: Any = ReadOnlyAsana(self.asana)  # a view: reads pass through, writes are refused
        viewer: Viewer | None = extra.pop("viewer", None)
        if viewer is not None:
            reads = VisibleReads(reads, viewer)  # and only what the person can see
        return RunContext(
            asana=reads,
            writes=self.asana,
            journal=self.journal,
            repo=self.repo,
            audit=self.audit,
            registry=self.registry,
            # Per run: consecutive model failures trip this run's breaker (the rest is offline).
            language=self.language.for_run(ModelBreaker(self.settings.model_breaker_failures)),
            policy=policy.to_policy_config(None),
            policies={ws: policy.to_policy_config(ws) for ws in workspaces},
            allowed_workspace_gids=frozenset(workspaces),
            allowed_project_gids=frozenset(self.settings.allowed_projects),
            default_workspace_gid=workspaces[0] if workspaces else None,
            approver_gid=approver_gid,
            approval_due_hours=float(self.settings.approval_due_hours),
            actor=actor,
            viewer=viewer,
            feedback=extra.pop("feedback", SqlFeedback(self.engine)),
            **extra,
        )

    def resolve_workspace(self, explicit: str | None = None) -> str:
        """The workspace a command works in (see RunContext.resolve_workspace)."""
        return self.context().resolve_workspace(explicit)


def _asana_target(
    settings: Settings, stack: ExitStack, engine: Engine, sandbox_seed: int | None = None
) -> tuple[str, str | Callable[[], str], EmbeddedSandbox | None]:
    if settings.asana_auth == "oauth":
        if settings.asana_base_url is None:
            raise ConfigError(
                "SPRINTPILOT_ASANA_AUTH=oauth needs SPRINTPILOT_ASANA_BASE_URL "
                "(https://app.asana.com/api/1.0, or a `sprintpilot sandbox` URL)"
            )
        from service.oauth.tokens import service_token

        return settings.asana_base_url, service_token(engine, settings), None
    if settings.asana_base_url is None:
        seed = DEFAULT_SEED if sandbox_seed is None else sandbox_seed
        sandbox = stack.enter_context(EmbeddedSandbox(settings.data_dir, seed=seed))
        return sandbox.base_url, sandbox.token, sandbox
    if settings.asana_token is None:
        raise ConfigError("SPRINTPILOT_ASANA_BASE_URL is set but SPRINTPILOT_ASANA_TOKEN is not")
    return settings.asana_base_url, settings.asana_token.get_secret_value(), None


def _language(settings: Settings) -> LanguageEngine:
    """The configured model (labelled with its name), or the offline engine."""
    key = settings.model_api_key.get_secret_value() if settings.model_api_key else None
    model = make_chat_model(
        settings.model,
        api_key=key,
        base_url=settings.model_base_url,
        timeout=settings.model_timeout_s,
        max_retries=settings.model_max_retries,
        streaming=False,  # structured writes: one answer, never streamed into a chat
    )
    return LanguageEngine(model, model_name=settings.model) if model is not None else LanguageEngine()


@contextmanager
def open_runtime(
    settings: Settings, *, registry: SpecialistRegistry | None = None, sandbox_seed: int | None = None
) -> Iterator[Runtime]:
    """Everything a command needs, closed on exit. `sandbox_seed`: the seed of the embedded
    sandbox's workspace when it is generated (the first time under a data dir; default 7)."""
    problem = writable_dir_problem(settings.data_dir)
    if problem is not None:
        raise ConfigError(f"data directory {problem} (--data-dir or SPRINTPILOT_DATA_DIR)")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    configure_tracing()  # LangSmith / OpenTelemetry, only when their environment variables ask
    engine = make_engine(settings)
    with ExitStack() as stack:
        stack.callback(engine.dispose)
        ensure_schema(engine)
        base_url, token, sandbox = _asana_target(settings, stack, engine, sandbox_seed)
        asana = AsanaClient(base_url, token)
        stack.callback(asana.close)
        if sandbox is not None:
            # A later embedded sandbox may get this address back with other data.
            stack.callback(forget_asana, asana.base_url)
        stack.callback(INBOX_FEED.forget, asana.base_url)  # the next runtime's database starts afresh
        reg = registry or default_registry()
        language = _language(settings)
        saver = stack.enter_context(open_checkpointer(settings))
        graph = build_supervisor_graph(reg).compile(checkpointer=saver)
        rt = Runtime(
            settings=settings,
            engine=engine,
            repo=SqlProposalRepository(engine),
            journal=SqlApplyJournal(engine),
            audit=SqlAuditLog(engine),
            asana=asana,
            registry=reg,
            graph=graph,
            sandbox=sandbox,
            language=language,
            model_calls=SqlModelCalls(engine),
        )
        rt.record_model_calls(language.model)
        stack.callback(rt.close_user_clients)
        from service.chat_runtime import chat_graph

        rt.chat_graph = chat_graph(rt)
        yield rt


def hold_runtime(
    settings: Settings, *, prepare: Callable[[Runtime], None] | None = None
) -> tuple[ExitStack, Runtime]:
    """Open a runtime that a long-lived process keeps (the API, a worker, the Agent Server).

    Returns the stack to close at shutdown with the runtime; `prepare` runs once on it (shared
    call totals, quotas), and a failure there closes what was opened.
    """
    stack = ExitStack()
    try:
        rt = stack.enter_context(open_runtime(settings))
        if prepare is not None:
            prepare(rt)
    except BaseException:
        stack.close()
        raise
    return stack, rt
