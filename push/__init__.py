"""Delivery: devices, the in-app inbox, pushes through APNs and the phone vendors' channels, and signed webhooks
to partner agencies, all fed from the outbox by the delivery worker (push/worker.py)."""

from __future__ import annotations

from auth.actions import register_actions

register_actions({
    "push.webhooks.manage": "Register partner agencies' webhook endpoints, event kinds and allowed hosts.",
    "push.deliveries.manage": "See the office's pushes and webhooks, and requeue dead letters.",
    "partner.events.read": "A partner agency: pull its events, see its webhook deliveries and replay one.",
}, external={"partner": {"partner.events.read"}})
