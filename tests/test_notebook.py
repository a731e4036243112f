"""The example notebook, executed by a real Jupyter kernel (nbclient, as nbconvert runs it):
every cell runs, the leaderboard shows as a table, a figure shows once as a PNG, and the
user's own pyplot figure still shows after ours."""

import shutil

import nbformat
import pytest

from tests.conftest import PROJECT_ROOT

nbclient = pytest.importorskip("nbclient")
NOTEBOOK = PROJECT_ROOT / "examples" / "quickstart.ipynb"


def outputs_of(cell) -> list[tuple[str, list[str]]]:
    return [(output.output_type, sorted(output.get("data", {}))) for output in cell.outputs]


def test_the_quickstart_notebook_runs_and_shows_what_it_says(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    notebook = nbformat.read(tmp_path / NOTEBOOK.name, as_version=4)
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert not [output for cell in code for output in cell.outputs
                if output.output_type == "error"]
    by_source = {cell.source.splitlines()[0]: cell for cell in code}
    table = next(cell for first, cell in by_source.items() if first.startswith("results = run"))
    assert outputs_of(table) == [("execute_result", ["text/html", "text/plain"])]
    assert "<table" in table.outputs[0].data["text/html"]
    figure = next(cell for first, cell in by_source.items() if "results.figure" in first)
    assert outputs_of(figure) == [("execute_result", ["image/png", "text/plain"])]  # once
    mine = next(cell for first, cell in by_source.items() if "pyplot" in first)
    assert [kinds for _, kinds in outputs_of(mine)].count(["image/png", "text/plain"]) == 1
    assert (tmp_path / "quickstart-results" / "digits" / "smoke" / "runs.jsonl").is_file()
