"""Benchmarks, run with `make bench`; each module prints its own figures and ratios."""
