"""Tests of keys/: vectors, tampering, replay, the key store, pairing and the auditor CLI."""
