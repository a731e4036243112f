"""Benchmarks of the tool itself (``python -m benchmarks.perf.NAME``): its speed, overhead,
parallel speed-up, crash safety and the measurements behind its choices. Nothing the runner
imports lives here; these import the library, never the other way round."""
