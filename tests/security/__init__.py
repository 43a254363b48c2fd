"""Adversarial tests, one module per OWASP API Security Top 10 (2023) class."""
