"""Benchmarks: every performance figure we quote comes from here (`make bench`, see bench/README.md)."""
