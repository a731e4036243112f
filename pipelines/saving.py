"""A fitted pipeline saved to a folder and loaded back, so a metric added later is computed from
the model that made a record instead of hours of retraining.

scikit-learn's own advice is followed: a fitted estimator is kept with joblib
(https://scikit-learn.org/stable/model_persistence.html). A pipeline that carries a Keras
network (``KeepsNetwork``) keeps it as Keras' own ``.keras`` file beside it, so the network can
be opened with ``keras.saving.load_model`` without this package (a recipe's network, which
carries the augmentation layer of ``pipelines/deep/_augmentation.py``, with that class given as
``custom_objects``); the rest of the pipeline (its settings, history, class count) is the
joblib file.

joblib files are pickles: load only folders this tool wrote on this machine. The harness
(benchmarks/run/model_cache.py) checks each file's SHA-256 against the record before calling
``load_pipeline``, and never loads a model named by a merged store.
"""

from __future__ import annotations

from pathlib import Path

import joblib

from .base import KeepsNetwork

PIPELINE_FILE = "pipeline.joblib"
NETWORK_FILE = "model.keras"


def save_pipeline(pipeline, directory: Path) -> list[Path]:
    """Write ``pipeline`` into ``directory`` (made if needed); the files written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    network = None
    if isinstance(pipeline, KeepsNetwork) and pipeline.keeps_network:
        network = getattr(pipeline, pipeline.network_attribute)
        network.save(directory / NETWORK_FILE)
        written.append(directory / NETWORK_FILE)
        setattr(pipeline, pipeline.network_attribute, None)  # the network is in its own file
    try:
        joblib.dump(pipeline, directory / PIPELINE_FILE, compress=3)
    finally:
        if network is not None:
            setattr(pipeline, pipeline.network_attribute, network)
    written.append(directory / PIPELINE_FILE)
    return written


def load_pipeline(directory: Path):
    """The pipeline ``save_pipeline`` wrote into ``directory``, ready to predict."""
    directory = Path(directory)
    pipeline = joblib.load(directory / PIPELINE_FILE)
    if isinstance(pipeline, KeepsNetwork) and pipeline.keeps_network:
        from .deep._augmentation import TrainingAugmentation
        from .deep._backend import keras

        # Keras imports only its own modules by name when it opens a file: our one layer
        # (the recipes' augmentation) is named to it, or every @modern model fails to load
        network = keras.saving.load_model(
            directory / NETWORK_FILE, compile=False,
            custom_objects={"TrainingAugmentation": TrainingAugmentation})
        setattr(pipeline, pipeline.network_attribute, network)
    return pipeline
