"""The HTTP API (FastAPI): webhook ingest, approvals, health and metrics."""

from service.api.app import create_api

__all__ = ["create_api"]
