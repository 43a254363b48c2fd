"""Unit tests for the shared deadline engine."""
