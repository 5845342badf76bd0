"""Typed Asana client over the official SDK (see client.AsanaClient)."""

from tools.asana.breaker import CircuitBreaker
from tools.asana.client import ASANA_BASE_URL, AsanaClient
from tools.asana.counter import CallCounter
from tools.asana.errors import (
    AmbiguousName,
    AsanaError,
    BadRequest,
    CircuitOpen,
    Forbidden,
    InvalidFieldValue,
    MissingCustomField,
    NotFound,
    PaymentRequired,
    RateLimited,
    ServerError,
    SyncTokenExpired,
    TransportError,
    Unauthorized,
)
from tools.asana.field_map import FieldMap
from tools.asana.fields import TaskView
from tools.asana.readonly import ReadOnlyAsana
from tools.asana.retry import RetryPolicy

__all__ = [
    "ASANA_BASE_URL",
    "AmbiguousName",
    "AsanaClient",
    "AsanaError",
    "BadRequest",
    "CallCounter",
    "CircuitBreaker",
    "CircuitOpen",
    "FieldMap",
    "Forbidden",
    "InvalidFieldValue",
    "MissingCustomField",
    "NotFound",
    "PaymentRequired",
    "RateLimited",
    "ReadOnlyAsana",
    "RetryPolicy",
    "ServerError",
    "SyncTokenExpired",
    "TaskView",
    "TransportError",
    "Unauthorized",
]
