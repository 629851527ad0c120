"""``mais audit``: keys for audit writers and verification of ``mais.audit.v1`` (see docs/audit.md)."""
