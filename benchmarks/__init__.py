"""Everything in fashionbench that is not a model.

Datasets and their integrity checks, split protocols, profiles, the runner that times and
scores pipelines, the append-only results store, the markdown reports and the CLI. Modules
are imported on demand so that ``--list`` and ``--report-only`` start fast.
"""
