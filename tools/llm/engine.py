"""The language engine: structured text from a model when configured, else the offline writer.

Numbers come from code; the engine only words them. With a model: render the prompt (untrusted
Asana text fenced), ask for `schema` through `with_structured_output`, validate; an invalid answer
is retried once, then the offline writer fills in and the label says so:
"offline (fallback: <reason>)". A response cache (record/replay) makes model runs reproducible.

A run can hand the engine its `ModelBreaker` (`for_run`): every write that ends in a fallback
counts as a failure, a model answer closes it, and once it is open the run's remaining writes
go straight to the offline writer ("offline (fallback: the model failed 3 calls in a row …)")
instead of each waiting out its own timeout and retries.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from langchain_core.messages import HumanMessage
from pydantic import BaseModel, ValidationError

from agents.proposal import PromptRef
from prompts.loader import load_prompt
from tools.errors import UpstreamError
from tools.llm.breaker import ModelBreaker, describe_model_error
from tools.llm.cache import ResponseCache, cache_key
from tools.llm.factory import OFFLINE
from tools.llm.offline import write_offline

log = logging.getLogger(__name__)
S = TypeVar("S", bound=BaseModel)
_REASON_LIMIT = 160


class ModelOutputError(UpstreamError, ValueError):
    pass


def _short(err: BaseException) -> str:
    text = " ".join(f"{type(err).__name__}: {err}".split())
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"


class LanguageEngine:
    """`model=None` is the offline engine; `model_name` labels outputs and keys the cache."""

    def __init__(
        self,
        model: Any = None,
        *,
        model_name: str = OFFLINE,
        cache: ResponseCache | None = None,
        replay_only: bool = False,
        breaker: ModelBreaker | None = None,
    ) -> None:
        self.model = model
        self.model_name = model_name if model is not None or replay_only else OFFLINE
        self.cache = cache
        # Evals: answer only from recorded responses, fall back offline on a miss, never call out.
        self.replay_only = replay_only
        # One run's consecutive model failures (None: not counted, every write asks the model).
        self.breaker = breaker

    def for_run(self, breaker: ModelBreaker) -> LanguageEngine:
        """This engine for one run: same model and cache, counting into the run's `breaker`."""
        engine = LanguageEngine.__new__(LanguageEngine)
        engine.__dict__.update(self.__dict__)
        engine.breaker = breaker
        return engine

    @property
    def label(self) -> str:
        return self.model_name

    def prompt_ref(self, prompt_id: str) -> PromptRef:
        return load_prompt(prompt_id).ref()

    def write(self, prompt_id: str, variables: dict[str, Any], schema: type[S]) -> tuple[S, str]:
        prompt = load_prompt(prompt_id)
        rendered = prompt.render(**variables)  # also checks that every variable is there
        if self.model is None and not self.replay_only:
            return self._offline(prompt_id, variables, schema), OFFLINE

        key = cache_key(self.model_name, rendered, schema.__name__)
        if self.cache is not None:
            recorded = self.cache.get(key)
            if recorded is not None:
                try:
                    return schema.model_validate(recorded), self.model_name
                except ValidationError as err:
                    log.warning(
                        "recorded answer for %s no longer fits %s: %s", prompt_id, schema.__name__, err
                    )
        if self.model is None:
            return self._offline(prompt_id, variables, schema), f"{OFFLINE} (fallback: no recorded answer)"
        if self.breaker is not None and self.breaker.open:
            return self._offline(prompt_id, variables, schema), f"{OFFLINE} (fallback: {self.breaker.note()})"

        reason = "no answer"
        for attempt in (1, 2):
            try:
                result = self._ask(rendered, schema)
            except (ValidationError, ModelOutputError, ValueError, TypeError) as err:
                reason = f"invalid output: {_short(err)}"
                log.info("model output for %s rejected (attempt %d): %s", prompt_id, attempt, reason)
                continue
            except Exception as err:  # noqa: BLE001 - an unreachable or failing model must not stop the agent
                timeout = getattr(self.model, "request_timeout", None)
                reason = f"model error: {describe_model_error(err, timeout=timeout)}"
                log.warning("model call for %s failed: %s", prompt_id, reason)
                break
            if self.breaker is not None:
                self.breaker.succeeded()
            if self.cache is not None:
                self.cache.put(
                    key,
                    result.model_dump(mode="json"),
                    model=self.model_name,
                    prompt_id=prompt_id,
                    prompt_version=prompt.version,
                    schema=schema.__name__,
                )
            return result, self.model_name
        if self.breaker is not None:
            self.breaker.failed(reason)
        return self._offline(prompt_id, variables, schema), f"{OFFLINE} (fallback: {reason})"

    def _ask(self, rendered: str, schema: type[S]) -> S:
        runnable = self.model.with_structured_output(schema)
        answer = runnable.invoke([HumanMessage(content=rendered)])
        if isinstance(answer, schema):
            return answer
        if isinstance(answer, BaseModel):
            return schema.model_validate(answer.model_dump())
        if isinstance(answer, dict):
            return schema.model_validate(answer)
        raise ModelOutputError(f"expected {schema.__name__}, got {type(answer).__name__}")

    def _offline(self, prompt_id: str, variables: dict[str, Any], schema: type[S]) -> S:
        produced = write_offline(prompt_id, variables, schema)
        assert isinstance(produced, schema)
        return produced
