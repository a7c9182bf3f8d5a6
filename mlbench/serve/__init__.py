"""Serving: the schema-checked ASGI service and its child process, rollouts (golden parity, canary, shadow)."""
