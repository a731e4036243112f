"""What a record's job ran on, in words, for a table: its GPU, or its CPU with the cores the
job used. Read from the record's ``env`` (run/environment.py writes it)."""

from __future__ import annotations

import os


def cpu_description(cpu: str, cores: int, total: int | None = None) -> str:
    """``cpu`` with the ``cores`` used of the machine's ``total`` (default: this machine's)."""
    total = total or os.cpu_count() or cores
    return f"{cpu} ({cores} cores)" if cores == total else f"{cpu} ({cores} of {total} cores)"


def hardware_label(env: dict, model: dict | None = None) -> str:
    """What a record's job ran on, for a table: its GPU, else its CPU with the cores the job
    used, and the arithmetic where it was not float32 (``model``: the record's). ``env["hardware"]``
    names the cores the process could use; a job of a parallel run was granted fewer threads
    (2 workers on 2 cores: one each), and its times are one core's."""
    return _machine_label(env) + _precision_label(model)


def _machine_label(env: dict) -> str:
    hardware = env.get("hardware", "–")
    threads, cores, total = env.get("threads"), env.get("cpus_available"), env.get("cpu_count")
    if hardware == env.get("gpu") or not (threads and cores and total and env.get("cpu")):
        return hardware  # a network on a GPU, or a record without the counts
    return cpu_description(env["cpu"], min(threads, cores), total)


def _precision_label(model: dict | None) -> str:
    """", mixed_bfloat16" for a network that trained in bfloat16 (a GPU's default, a CPU's
    with --precision bfloat16): its numbers are not float32's, and its speed is not either."""
    policy = (model or {}).get("dtype_policy")
    return f", {policy}" if isinstance(policy, str) and policy != "float32" else ""
