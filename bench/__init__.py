"""Benchmarks: print figures; not part of the test suite."""
