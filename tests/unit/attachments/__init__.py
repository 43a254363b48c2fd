"""Unit tests for the attachment layer: real files built in the tests, stored under tmp_path."""
