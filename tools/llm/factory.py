"""Chat model factory from a model setting string.

- "offline"                       → None (the deterministic offline engine is used)
- "openai:<model>"                → ChatOpenAI (api.openai.com, or `base_url` when given)
- "openai-compatible:<model>"     → ChatOpenAI against an OpenAI-compatible server (vLLM, Ollama,
                                    llama.cpp); `base_url` is required
Nothing is constructed at import time; langchain-openai is imported only when a model is asked for.

Every model call is bounded: `timeout` seconds per request (connect, and each read of the answer,
so a server that stalls mid-stream is given up on too) and `max_retries` retries by the openai
client (connection errors, 408/409/429/5xx, honouring Retry-After); nothing else retries a call.

Every call is measured (tools/llm/usage.py): the model carries a `UsageRecorder` callback, streamed
calls ask the server for token counts (`stream_usage=True`: `stream_options.include_usage`), and
the process's shared httpx clients count each HTTP attempt, so the client's retries are recorded.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from tools.errors import ConfigError
from tools.llm.usage import UsageRecorder, acount_attempt, count_attempt

OFFLINE = "offline"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 2
_PROVIDERS = ("openai", "openai-compatible")


def parse_model_setting(model: str) -> tuple[str, str]:
    """("offline", "") or (provider, model name); ConfigError for anything else."""
    text = (model or "").strip()
    if text.lower() == OFFLINE:
        return OFFLINE, ""
    provider, sep, name = text.partition(":")
    if not sep or provider not in _PROVIDERS or not name.strip():
        raise ConfigError(
            f"unsupported model setting {model!r}: use 'offline', 'openai:<model>' or "
            "'openai-compatible:<model>' (with a base URL)"
        )
    return provider, name.strip()


@lru_cache(maxsize=1)
def _http_clients(pid: int) -> tuple[Any, Any]:
    """One sync and one async httpx client per process (`pid`: a forked worker never shares its
    parent's connections), with the openai defaults (limits, redirects) and the hook that counts
    each attempt of a model call. Per-request timeouts come from the model's own `timeout`. Built
    on first use, never at import."""
    import openai

    return (
        openai.DefaultHttpxClient(event_hooks={"request": [count_attempt]}),
        openai.DefaultAsyncHttpxClient(event_hooks={"request": [acount_attempt]}),
    )


def make_chat_model(
    model: str,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    temperature: float = 0,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_retries: int = DEFAULT_MAX_RETRIES,
    streaming: bool = True,
) -> Any:
    """A LangChain chat model for `model` (bounded by `timeout` and `max_retries`), or None for offline.

    `streaming=False` for the language engine's structured writers: inside a graph streamed with
    `stream_mode="messages"` (the chat, Agent Chat UI) LangChain would otherwise stream them too,
    and their JSON would show up in the conversation as tokens; they are also tagged `nostream`
    so LangGraph leaves their answers out of the message stream."""
    provider, name = parse_model_setting(model)
    if provider == OFFLINE:
        return None
    if provider == "openai-compatible" and not base_url:
        raise ConfigError(
            "an 'openai-compatible:<model>' setting needs a base_url (e.g. http://localhost:8000/v1)"
        )
    if provider == "openai" and not api_key and not os.environ.get("OPENAI_API_KEY"):
        # The client would raise its own error on construction, a traceback in every command.
        raise ConfigError(
            f"SPRINTPILOT_MODEL=openai:{name} needs an API key: set SPRINTPILOT_MODEL_API_KEY "
            "(or OPENAI_API_KEY)"
        )
    from langchain_openai import ChatOpenAI

    kwargs: dict[str, Any] = {
        "model": name,
        "temperature": temperature,
        "timeout": timeout,
        "max_retries": max_retries,
        # Token counts of streamed answers too (OpenAI, vLLM, Ollama and llama.cpp honour it).
        "stream_usage": True,
        "callbacks": [UsageRecorder(name, timeout=timeout)],
    }
    kwargs["http_client"], kwargs["http_async_client"] = _http_clients(os.getpid())
    if not streaming:
        kwargs["disable_streaming"] = True
        kwargs["tags"] = ["nostream"]  # langgraph.constants.TAG_NOSTREAM
    if base_url:
        kwargs["base_url"] = base_url
    if api_key:
        kwargs["api_key"] = api_key
    elif provider == "openai-compatible":
        kwargs["api_key"] = "not-needed"  # local servers ignore it, but the client insists on one
    return ChatOpenAI(**kwargs)
