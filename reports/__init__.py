"""Supervisor reports: fidelity items and the quarterly employment rate (SPEC §10)."""
