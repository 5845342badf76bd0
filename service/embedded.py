"""The embedded default Asana: the seeded sandbox, served in-process, persisted between commands.

With no `SPRINTPILOT_ASANA_BASE_URL`, every CLI command starts the sandbox from
`<data_dir>/sandbox/state.json` (generating the seeded synthetic team the first time), talks to
it over real HTTP through the same client as real Asana, and saves the state on exit, so
`plan` in one process and `approvals approve` in the next see the same workspace.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from sandbox.server import SandboxServer
from sandbox.store import Store

DEFAULT_SEED = 7


class EmbeddedSandbox:
    def __init__(self, data_dir: Path, *, seed: int = DEFAULT_SEED, state_file: Path | None = None) -> None:
        self.path = state_file or (data_dir / "sandbox" / "state.json")
        self.seed = seed
        self.server: SandboxServer | None = None
        self.generated = False
        self._saved_at: tuple[int, int] | None = None

    def _load_or_generate(self) -> Store:
        if self.path.exists():
            return Store.load(self.path)
        from sandbox.generator import generate_workspace

        ws = generate_workspace(self.seed)
        ws.store.meta.setdefault("default_token", ws.token)
        ws.store.meta.setdefault("seed", self.seed)
        self.generated = True
        return ws.store

    def start(self) -> EmbeddedSandbox:
        store = self._load_or_generate()
        token = store.meta.get("default_token") or next(iter(store.tokens))
        self.server = SandboxServer(store, token, allow_local_webhooks=True).start()  # local demo receiver
        if self.generated:
            self.save()
        else:
            self._saved_at = self._fingerprint()
        return self

    @property
    def store(self) -> Store:
        assert self.server is not None, "sandbox not started"
        return self.server.store

    @property
    def base_url(self) -> str:
        assert self.server is not None, "sandbox not started"
        return self.server.base_url

    @property
    def token(self) -> str:
        assert self.server is not None, "sandbox not started"
        return self.server.token

    @property
    def state_seed(self) -> int:
        """The seed the served workspace was generated from (states saved before it was recorded
        were all generated from the default seed)."""
        return int(self.store.meta.get("seed", DEFAULT_SEED))

    def token_for(self, user_gid: str) -> str | None:
        """A bearer token of a human teammate (the demo approves as the scrum master)."""
        for token, gid in self.store.tokens.items():
            if gid == user_gid:
                return token
        return None

    def _fingerprint(self) -> tuple[int, int]:
        # Every write through the API mints a gid or an event, so these two counters move with it.
        return self.store.next_gid, self.store.next_event_seq

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with self.store.lock:
            fingerprint = self._fingerprint()
            self.store.save(tmp)
        tmp.replace(self.path)
        self._saved_at = fingerprint

    def save_if_changed(self) -> None:
        """Persist after a request in a long-lived process (the API), only when something changed."""
        if self.server is not None and self._fingerprint() != self._saved_at:
            self.save()

    def stop(self) -> None:
        if self.server is None:
            return
        try:
            self.save()
        finally:
            self.server.stop()
            self.server = None

    def __enter__(self) -> EmbeddedSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
