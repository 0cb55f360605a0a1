"""CLI commands (placeholder until this capability lands)."""

from __future__ import annotations

commands: list = []
