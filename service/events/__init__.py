"""Asana events: inbox/outbox storage (receiver side), routing, relay and reconciliation (worker side)."""
