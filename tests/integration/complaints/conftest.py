"""Fixtures for complaint tests: `staff` is shared from tests/integration/conftest.py."""
