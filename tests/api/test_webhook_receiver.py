"""The receiver's security and durability contract, with deliveries signed exactly like Asana's."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select, update

from service.db.events import InboxEvent, OutboxMessage, WebhookSubscription
from service.db.models import AuditRow
from tests.api.conftest import Api, body_of, event, sign

pytestmark = pytest.mark.integration
SECRET = "4f6c0b0d6a0e4a5f9f3b7d1e2c8a9b00"


def _audit(api: Api, event_name: str) -> list[AuditRow]:
    with api.engine.connect() as conn:
        return list(conn.execute(select(AuditRow).where(AuditRow.event == event_name)).all())  # type: ignore[arg-type]


def test_signed_delivery_is_stored_with_an_outbox_row(api: Api) -> None:
    nonce, sub = api.subscribe(SECRET)
    body = body_of(event("1001"), event("1002"))
    reply = api.deliver(nonce, body, sign(SECRET, body))
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"stored": 2, "duplicates": 0}
    with api.engine.connect() as conn:
        rows = conn.execute(select(InboxEvent.resource_gid, InboxEvent.webhook_gid, InboxEvent.status)).all()
        outbox = conn.execute(select(OutboxMessage.topic, OutboxMessage.published_at)).all()
    assert sorted(rows) == [("1001", sub.webhook_gid, "new"), ("1002", sub.webhook_gid, "new")]
    assert outbox == [("event.process", None), ("event.process", None)]
    assert api.metric("events_received_total", source="webhook") == 2


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tampered", "bad_signature"),
        ("wrong_secret", "bad_signature"),
        ("short", "malformed_signature"),
        ("missing", "missing_signature"),
        ("non_ascii", "malformed_signature"),
    ],
)
def test_bad_signatures_are_refused_and_nothing_is_stored(api: Api, case: str, reason: str) -> None:
    nonce, _ = api.subscribe(SECRET)
    body = body_of(event("1001"))
    good = sign(SECRET, body)
    sent_body, signature = {
        "tampered": (body.replace(b"1001", b"1002"), good),
        "wrong_secret": (body, sign("not-the-secret", body)),
        "short": (body, good[:20]),
        "missing": (body, None),
        "non_ascii": (body, "é" * 64),
    }[case]
    # Headers as raw bytes, so a non-ASCII signature reaches the server exactly as sent.
    headers: list[tuple[bytes, bytes]] = [(b"Content-Type", b"application/json")]
    if signature is not None:
        headers.append((b"X-Hook-Signature", signature.encode()))
    reply = httpx.post(f"{api.url}/webhooks/asana/{nonce}", content=sent_body, headers=headers, timeout=10)
    assert reply.status_code == 401
    assert reply.json() == {"error": "invalid signature"}
    assert api.counts() == (0, 0)
    assert api.metric("events_rejected_total", reason=reason) == 1
    audits = _audit(api, "webhook.rejected")
    assert len(audits) == 1
    assert audits[0].actor == "system:webhook" and audits[0].reason == reason
    stored = json.dumps(audits[0].details)
    if signature is not None:
        assert signature not in stored, "the signature value must not be logged"
    assert SECRET not in stored


def test_unicode_and_odd_whitespace_verify_over_raw_bytes(api: Api) -> None:
    nonce, _ = api.subscribe(SECRET)
    ev = event("1001", field="notes")
    ev["note"] = "Ünïcödé — 日本語 ✓ \u2028 tab\there"
    # Pretty-printed, non-ASCII, CRLF and trailing spaces: re-serialising would change the bytes.
    raw = ('{\r\n  "events" :\t[ ' + json.dumps(ev, ensure_ascii=False, indent=3) + " ]   \n}  \n").encode()
    reply = api.deliver(nonce, raw, sign(SECRET, raw))
    assert reply.status_code == 200, reply.text
    with api.engine.connect() as conn:
        payload = conn.execute(select(InboxEvent.payload)).scalar_one()
    assert payload["note"] == ev["note"]
    # The same JSON re-encoded compactly has another signature: proof that we verified raw bytes.
    assert sign(SECRET, body_of(ev)) != sign(SECRET, raw)


def test_same_event_three_times_is_one_inbox_row(api: Api) -> None:
    nonce, _ = api.subscribe(SECRET)
    body = body_of(event("1001"))
    replies = [api.deliver(nonce, body, sign(SECRET, body)) for _ in range(3)]
    assert [r.status_code for r in replies] == [200, 200, 200]
    assert [r.json()["stored"] for r in replies] == [1, 0, 0]
    assert api.counts() == (1, 1)
    assert api.metric("events_received_total", source="webhook") == 3
    assert api.metric("events_deduplicated_total") == 2


def test_duplicate_inside_one_delivery_is_stored_once(api: Api) -> None:
    nonce, _ = api.subscribe(SECRET)
    body = body_of(event("1001"), event("1001"), event("1001", at="2026-11-20T10:00:01.000Z"))
    reply = api.deliver(nonce, body, sign(SECRET, body))
    assert reply.json() == {"stored": 2, "duplicates": 1}


def test_heartbeat_is_acknowledged_and_stores_nothing(api: Api) -> None:
    nonce, sub = api.subscribe(SECRET)
    body = b'{"events":[]}'
    reply = api.deliver(nonce, body, sign(SECRET, body))
    assert reply.status_code == 200
    assert api.counts() == (0, 0)
    with api.engine.connect() as conn:
        beat = conn.execute(
            select(WebhookSubscription.last_heartbeat_at).where(
                WebhookSubscription.webhook_gid == sub.webhook_gid
            )
        ).scalar_one()
    assert beat is not None


def test_too_large_body_is_refused_before_verification(api: Api) -> None:
    nonce, _ = api.subscribe(SECRET)
    big = body_of(*[event(str(i)) for i in range(1000)])
    assert len(big) > 64 * 1024
    reply = api.deliver(nonce, big, sign(SECRET, big))
    assert reply.status_code == 413
    assert "error" in reply.json()
    assert api.counts() == (0, 0)


def test_chunked_body_over_the_limit_is_refused(api: Api) -> None:
    nonce, _ = api.subscribe(SECRET)
    big = body_of(*[event(str(i)) for i in range(1000)])

    def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    reply = httpx.post(
        f"{api.url}/webhooks/asana/{nonce}",
        content=chunks(),
        headers={"X-Hook-Signature": sign(SECRET, big)},
        timeout=10,
    )
    assert reply.status_code == 413
    assert api.counts() == (0, 0)


def test_malformed_json_after_a_valid_signature_is_a_400(api: Api) -> None:
    nonce, _ = api.subscribe(SECRET)
    for body in (b"{not json", b'{"events": [{"action": "changed"}]}', b'{"events": "x"}'):
        reply = api.deliver(nonce, body, sign(SECRET, body))
        assert reply.status_code == 400, body
    assert api.counts() == (0, 0)


def test_bare_path_matches_any_active_subscription(api: Api) -> None:
    api.subscribe("secret-one", webhook_gid="1")
    api.subscribe("secret-two", webhook_gid="2")
    body = body_of(event("1001"))
    reply = api.deliver(None, body, sign("secret-two", body))
    assert reply.status_code == 200
    with api.engine.connect() as conn:
        assert conn.execute(select(InboxEvent.webhook_gid)).scalar_one() == "2"
    assert api.deliver(None, body, sign("secret-three", body)).status_code == 401


def test_unknown_or_malformed_nonce_is_refused(api: Api) -> None:
    body = body_of(event("1001"))
    assert api.deliver("A" * 32, body, sign(SECRET, body)).status_code == 401
    assert api.deliver("bad!", body, sign(SECRET, body)).status_code == 404
    assert api.counts() == (0, 0)


def test_unexpected_handshakes_are_refused(api: Api) -> None:
    for path in ("/webhooks/asana", "/webhooks/asana/" + "B" * 32):
        reply = httpx.post(api.url + path, headers={"X-Hook-Secret": "abc123"}, timeout=10)
        assert reply.status_code == 403
        assert "X-Hook-Secret" not in reply.headers
    assert len(_audit(api, "webhook.rejected")) == 2


def test_handshake_cannot_replace_a_bound_secret(api: Api) -> None:
    nonce, _ = api.subscribe(SECRET)
    reply = httpx.post(f"{api.url}/webhooks/asana/{nonce}", headers={"X-Hook-Secret": "attacker"}, timeout=10)
    assert reply.status_code == 403
    body = body_of(event("1001"))
    assert api.deliver(nonce, body, sign("attacker", body)).status_code == 401
    assert api.deliver(nonce, body, sign(SECRET, body)).status_code == 200


@pytest.mark.parametrize("warm", [False, True], ids=["secret-read", "secret-kept"])
def test_storage_outage_is_not_acknowledged(api: Api, warm: bool) -> None:
    """Whether the delivery goes through the app (its secret read from the database) or is
    stored from the event loop (its secret already kept), a failed insert is a 503 and nothing
    is half-written."""
    nonce, _ = api.subscribe(SECRET)
    before = (0, 0)
    if warm:
        first = body_of(event("1000"))
        assert api.deliver(nonce, first, sign(SECRET, first)).status_code == 200
        before = (1, 1)
    body = body_of(event("1001"))
    with api.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE outbox RENAME TO outbox_gone")
    try:
        reply = api.deliver(nonce, body, sign(SECRET, body))
        assert reply.status_code == 503
        assert reply.json() == {"error": "storage unavailable"}
    finally:
        with api.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE outbox_gone RENAME TO outbox")
    # The inbox insert rolled back with the failed outbox insert: Asana's retry stores it fully.
    assert api.counts() == before
    assert api.deliver(nonce, body, sign(SECRET, body)).json() == {"stored": 1, "duplicates": 0}
    assert api.counts() == (before[0] + 1, before[1] + 1)


def test_deliveries_after_the_first_are_stored_from_the_event_loop(api: Api) -> None:
    """Issue 23: once a webhook's secret is kept in memory, a delivery is verified, parsed and
    stored in the event loop (the receiver's own async connection, `application_name`
    sprintpilot); the rows, counts, duplicates and metrics are those of the first path, and a
    tampered delivery is still refused by the path that audits refusals."""
    nonce, sub = api.subscribe(SECRET)
    first = body_of(event("1001"))
    assert api.deliver(nonce, first, sign(SECRET, first)).json() == {"stored": 1, "duplicates": 0}
    second = body_of(event("1002"), event("1001"), event("1002"))
    reply = api.deliver(nonce, second, sign(SECRET, second))
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"stored": 1, "duplicates": 2}
    assert api.counts() == (2, 2)
    with api.engine.connect() as conn:
        stored_by = conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sprintpilot' "
            "AND datname = current_database()"
        ).scalar_one()
        webhooks = conn.execute(select(InboxEvent.webhook_gid).distinct()).scalars().all()
    assert stored_by >= 1  # the loop path's connection exists: the second delivery used it
    assert webhooks == [sub.webhook_gid]
    assert api.metric("events_received_total", source="webhook") == 4
    assert api.metric("events_deduplicated_total") == 2
    assert api.deliver(nonce, second, sign("attacker", second)).status_code == 401
    assert api.deliver(nonce, b"{not json", sign(SECRET, b"{not json")).status_code == 400
    assert len(_audit(api, "webhook.rejected")) == 2


def test_a_delivery_notes_the_webhooks_last_delivery_time(api: Api) -> None:
    """The first delivery of an interval records when the webhook last delivered (what `webhooks
    status` shows), also when it took the event loop's path; the others in the interval do not
    write it."""
    nonce, sub = api.subscribe(SECRET)

    def last_delivery() -> object:
        with api.engine.connect() as conn:
            return conn.execute(
                select(WebhookSubscription.last_delivery_at).where(
                    WebhookSubscription.webhook_gid == sub.webhook_gid
                )
            ).scalar_one()

    assert last_delivery() is None
    refused = body_of(event("99"))  # read and keeps the secret: the next delivery takes the loop path
    assert api.deliver(nonce, refused, sign("attacker", refused)).status_code == 401
    for n in range(3):
        body = body_of(event(f"10{n}"))
        assert api.deliver(nonce, body, sign(SECRET, body)).status_code == 200
    noted = last_delivery()
    assert noted is not None
    with api.engine.begin() as conn:
        conn.execute(update(WebhookSubscription).values(last_delivery_at=None))
    body = body_of(event("200"))
    assert api.deliver(nonce, body, sign(SECRET, body)).status_code == 200
    assert last_delivery() is None  # within the interval: this process does not write it again
    assert api.counts() == (4, 4)
