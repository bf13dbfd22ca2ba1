"""Benchmarks run by `make bench`: real pipeline runs measured against the database's floor."""
