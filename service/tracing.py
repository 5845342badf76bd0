"""Tracing, switched on only by the standard environment variables a user sets; a no-op otherwise.

- **LangSmith**: `LANGSMITH_TRACING=true` (or the older `LANGCHAIN_TRACING_V2=true`) with
  `LANGSMITH_API_KEY` (and optionally `LANGSMITH_PROJECT`, `LANGSMITH_ENDPOINT`). LangChain's own
  tracer (the `langsmith` package, a dependency of langchain-core) then traces every graph run and
  model call; nothing here needs to act. `LANGSMITH_OTEL_ENABLED=true` makes it emit OpenTelemetry
  instead of / besides LangSmith runs (see the LangSmith docs).
- **OpenTelemetry**: `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), with
  the usual `OTEL_SERVICE_NAME` (default "sprintpilot"), `OTEL_EXPORTER_OTLP_HEADERS` and
  `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` default, or `grpc`). If `opentelemetry-sdk` and
  the OTLP exporter are installed (`pip install opentelemetry-sdk opentelemetry-exporter-otlp`),
  a tracer provider exporting to that endpoint is installed, unless the process already has one
  (e.g. under `opentelemetry-instrument`); each model call is then a span (tools/llm/usage.py).
  Without them a warning says what to install and nothing else happens. `OTEL_SDK_DISABLED=true`
  turns it off.

`configure_tracing()` is idempotent; the runtime calls it when it opens (CLI, API, worker, the
Agent Server's graph factory). The SDK's provider flushes its spans at process exit.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping

log = logging.getLogger(__name__)

_TRUE = ("1", "true", "yes", "on")
_lock = threading.Lock()
_done: dict[str, list[str]] = {}


def _on(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in _TRUE


def langsmith_enabled(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return _on(env, "LANGSMITH_TRACING") or _on(env, "LANGCHAIN_TRACING_V2")


def otlp_endpoint(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    if _on(env, "OTEL_SDK_DISABLED"):
        return None
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    return (endpoint or "").strip() or None


def _install_otlp(env: Mapping[str, str]) -> bool:
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but opentelemetry-sdk is not installed: no spans are "
            "exported (pip install opentelemetry-sdk opentelemetry-exporter-otlp)"
        )
        return False
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return True  # the process already exports (e.g. opentelemetry-instrument): use that
    grpc = env.get("OTEL_EXPORTER_OTLP_PROTOCOL", "").strip().lower() == "grpc"
    try:
        if grpc:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OTLP exporter is not installed: no spans are "
            "exported (pip install opentelemetry-exporter-otlp)"
        )
        return False
    resource = Resource.create({"service.name": env.get("OTEL_SERVICE_NAME") or "sprintpilot"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # reads the OTEL_* variables
    trace.set_tracer_provider(provider)
    return True


def configure_tracing(env: Mapping[str, str] | None = None) -> list[str]:
    """Switch on what the environment asks for (once per process); returns what is on:
    "langsmith", "otlp", or nothing."""
    env = os.environ if env is None else env
    with _lock:
        if "on" in _done:
            return list(_done["on"])
        on: list[str] = []
        if langsmith_enabled(env):
            on.append("langsmith")
            log.info("LangSmith tracing is on (project %s)", env.get("LANGSMITH_PROJECT") or "default")
        if otlp_endpoint(env) is not None and _install_otlp(env):
            on.append("otlp")
            log.info("OpenTelemetry spans are exported to %s", otlp_endpoint(env))
        _done["on"] = on
        return list(on)
