"""The models: the pipeline contract, the registry and the zoos that register into it.

    from pipelines import create_pipeline, list_pipelines
    list_pipelines("pca-*")
    model = create_pipeline("pca-knn", profile="quick").fit(X, y)
"""

from .base import Pipeline, SklearnPipeline
from .registry import (
    ENTRY_POINT_GROUP,
    create_pipeline,
    list_pipelines,
    load_plugin_file,
    pipeline_entries,
    plugin_failures,
    register_pipeline,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Pipeline",
    "SklearnPipeline",
    "create_pipeline",
    "list_pipelines",
    "load_plugin_file",
    "pipeline_entries",
    "plugin_failures",
    "register_pipeline",
]
