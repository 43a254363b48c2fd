"""Shared deadline engine: working-day calendar, clock definitions, clock states. Pure, no I/O."""
