"""Benchmarks: scripts that print their figures (`python -m bench.<name>`), each
against a baseline measured in the same run. docs/benchmarks.md has the results."""
