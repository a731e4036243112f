"""The deep zoo: Keras 3 models behind the pipeline contract.

Nothing in this package imports Keras at import time: ``--list``, the classical zoo and
``--report-only`` must start fast and work where no deep-learning backend is installed.
The modules whose names start with an underscore (``_architectures``, ``_training``) import
Keras at their top; the registry's discovery skips them, and ``KerasPipeline`` imports them
only when a model is built.
"""

from .keras_pipeline import KerasPipeline, TrainingConfig

__all__ = ["KerasPipeline", "TrainingConfig"]
