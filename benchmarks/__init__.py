"""Benchmarks: scripts that print a table; run by hand, results in docs/benchmarks.md."""
