"""Chat model factory from a model setting string.

- "offline"                       → None (the deterministic offline engine is used)
- "openai:<model>"                → ChatOpenAI (api.openai.com, or `base_url` when given)
- "openai-compatible:<model>"     → ChatOpenAI against an OpenAI-compatible server (vLLM, Ollama,
                                    llama.cpp); `base_url` is required
Nothing is constructed at import time; langchain-openai is imported only when a model is asked for.

Every model call is bounded: `timeout` seconds per request (connect, and each read of the answer,
so a server that stalls mid-stream is given up on too) and `max_retries` retries by the openai
client (connection errors, 408/409/429/5xx, honouring Retry-After); nothing else retries a call.
"""

from __future__ import annotations

from typing import Any

from tools.errors import ConfigError

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


def make_chat_model(
    model: str,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    temperature: float = 0,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_retries: int = DEFAULT_MAX_RETRIES,
) -> Any:
    """A LangChain chat model for `model` (bounded by `timeout` and `max_retries`), or None for offline."""
    provider, name = parse_model_setting(model)
    if provider == OFFLINE:
        return None
    if provider == "openai-compatible" and not base_url:
        raise ConfigError(
            "an 'openai-compatible:<model>' setting needs a base_url (e.g. http://localhost:8000/v1)"
        )
    from langchain_openai import ChatOpenAI

    kwargs: dict[str, Any] = {
        "model": name,
        "temperature": temperature,
        "timeout": timeout,
        "max_retries": max_retries,
    }
    if base_url:
        kwargs["base_url"] = base_url
    if api_key:
        kwargs["api_key"] = api_key
    elif provider == "openai-compatible":
        kwargs["api_key"] = "not-needed"  # local servers ignore it, but the client insists on one
    return ChatOpenAI(**kwargs)
