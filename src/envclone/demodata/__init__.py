"""Deterministic demo and benchmark content for one environment, in the native API's request shapes.
Pure: no I/O, no store, no server; what sends it somewhere is given as a ``SeedTarget``."""
