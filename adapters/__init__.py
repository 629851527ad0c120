"""Agency adapters: one package per legacy format, pure parsing and mapping (no Kafka)."""
