"""Spend safety and operator governance (issue #12): pure policies and the ports they need.

Read bottom-up: ``policy`` (operator settings as values), ``windows`` (budget periods), ``ports``
(ledger, settings, confirmations, keys), then the decisions: ``access``, ``moderation``, ``gate``
(budgets, the per-user queue, confirmation), ``keys`` (own IMA keys), ``usage`` and ``admin``.
"""
