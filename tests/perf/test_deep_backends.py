"""The backend benchmark runs each setting in its own process with what the setting names."""

import json

from benchmarks.perf import deep_backends
from tests.conftest import genuine_data_dir, requires_genuine_data


@requires_genuine_data
def test_each_setting_trains_under_its_own_dtype_policy(tmp_path):
    """The bf16 setting really trains under mixed_bfloat16 (its child reports the pipeline's
    own dtype policy), and the default setting in float32, so a speed-up it shows is bf16's."""
    sink = tmp_path / "backends.jsonl"
    assert deep_backends.main(["--networks", "cnn-seed004", "--settings", "tf", "tf-bf16",
                               "--window-seconds", "0.05", "--no-flops",
                               "--data-dir", str(genuine_data_dir()), "--json", str(sink)]) == 0
    lines = [json.loads(line) for line in sink.read_text().splitlines()]
    assert [line.get("error") for line in lines] == [None, None]
    policies = {line["setting"]: line["dtype_policy"] for line in lines}
    from pipelines.deep import _training  # "auto": float32 on a CPU, bf16 where a GPU is

    auto = "mixed_bfloat16" if _training.gpu_devices() else "float32"
    assert policies == {"tf": auto, "tf-bf16": "mixed_bfloat16"}
    assert all(line["train_images_per_second"] > 0 for line in lines)


def test_the_benchmark_covers_every_registered_network():
    """The backend benchmark's default networks are the whole deep zoo: a network added to
    the registry is measured with the rest (each record's backend settings follow them)."""
    from pipelines.registry import get_entry, list_pipelines

    deep = {name for name in list_pipelines() if get_entry(name).family == "deep"}
    assert set(deep_backends.NETWORKS) == deep
