"""Attachments: sniff, check, strip and store uploaded files; no HTTP, no database. Entry point: service.ingest."""
