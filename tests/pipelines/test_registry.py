import json
import sys
import textwrap

import numpy as np
import pytest

from benchmarks.errors import UnknownNameError
from pipelines import SklearnPipeline, create_pipeline, list_pipelines, register_pipeline

PLUGIN_SOURCE = '''
from sklearn.dummy import DummyClassifier
from pipelines import SklearnPipeline, register_pipeline


@register_pipeline("{name}", family="classical", tags=("test",))
def build(profile):
    """A majority-class baseline from a plugin."""
    return SklearnPipeline("{name}", DummyClassifier(strategy="most_frequent"))
'''


def test_builtin_modules_are_discovered():
    assert {"raw-knn", "pca-knn"} <= set(list_pipelines())


def test_wildcards_and_excludes():
    assert list_pipelines("pca-*") == [name for name in list_pipelines() if name.startswith("pca-")]
    assert "raw-knn" in list_pipelines(["raw-*", "pca-*"])
    assert "raw-knn" not in list_pipelines("*-knn", exclude=["raw-*"])
    assert list_pipelines("*", family="deep") == [
        name for name in list_pipelines() if create_pipeline(name, "smoke").family == "deep"]


def test_unknown_pipeline_gets_close_matches():
    with pytest.raises(UnknownNameError, match="did you mean.*pca-knn"):
        create_pipeline("pca-kn")


def test_decorated_function_registers_and_builds(isolated_registry):
    @register_pipeline("test-dummy", family="classical", tags=("baseline",))
    def build(profile, strategy="most_frequent"):
        """Majority baseline."""
        from sklearn.dummy import DummyClassifier

        return SklearnPipeline("test-dummy", DummyClassifier(strategy=strategy))

    assert "test-dummy" in list_pipelines("test-*")
    entry = isolated_registry.get_entry("test-dummy")
    assert entry.description == "Majority baseline." and entry.tags == ("baseline",)
    pipeline = create_pipeline("test-dummy", "smoke", strategy="prior")
    assert pipeline.describe()["params"]["strategy"] == "prior"
    X = np.zeros((4, 2, 2), np.uint8)
    assert pipeline.fit(X, np.array([1, 1, 1, 0])).predict(X).tolist() == [1, 1, 1, 1]


def test_seed_reaches_factories_that_take_it(isolated_registry):
    seen = {}

    @register_pipeline("test-seeded", family="classical")
    def build(profile, seed=0):
        seen["seed"] = seed
        return create_pipeline("raw-knn", profile)

    create_pipeline("test-seeded", "smoke", seed=7)
    assert seen["seed"] == 7


def test_second_registration_of_a_name_is_refused(isolated_registry):
    with pytest.raises(ValueError, match="already registered"):
        register_pipeline("raw-knn", family="classical")(lambda profile: None)


def test_factory_returning_no_pipeline_is_reported(isolated_registry):
    register_pipeline("test-broken", family="classical")(lambda profile: object())
    with pytest.raises(isolated_registry.PipelineContractError, match="lacks fit, predict"):
        create_pipeline("test-broken")


def test_loose_plugin_file(isolated_registry, tmp_path):
    path = tmp_path / "my_plugin.py"
    path.write_text(PLUGIN_SOURCE.format(name="file-dummy"))
    assert isolated_registry.load_plugin_file(path)
    assert "file-dummy" in list_pipelines()
    assert create_pipeline("file-dummy").describe()["estimator"] == "DummyClassifier"


def test_broken_plugin_file_is_reported_and_others_survive(isolated_registry, tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy\nraise RuntimeError('no GPU here')\n")
    good = tmp_path / "good.py"
    good.write_text(PLUGIN_SOURCE.format(name="good-dummy"))
    assert not isolated_registry.load_plugin_file(broken)
    assert isolated_registry.load_plugin_file(good)
    failures = isolated_registry.plugin_failures()
    assert any("broken.py" in f.source and "RuntimeError: no GPU here" in f.error
               for f in failures)
    assert {"good-dummy", "raw-knn"} <= set(list_pipelines())


def test_entry_point_plugins(isolated_registry, tmp_path, monkeypatch):
    (tmp_path / "fb_ep_module_plugin.py").write_text(PLUGIN_SOURCE.format(name="ep-module"))
    (tmp_path / "fb_ep_hook_plugin.py").write_text(textwrap.dedent('''
        def register():
            from sklearn.dummy import DummyClassifier
            from pipelines import SklearnPipeline, register_pipeline
            register_pipeline("ep-hook", family="classical")(
                lambda profile: SklearnPipeline("ep-hook", DummyClassifier()))
    '''))
    (tmp_path / "fb_ep_broken_plugin.py").write_text("raise ImportError('missing dependency')\n")
    dist_info = tmp_path / "fb_test_plugins-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: fb-test-plugins\n"
                                        "Version: 1.0\n")
    (dist_info / "entry_points.txt").write_text(
        "[fashionbench.pipelines]\n"
        "module = fb_ep_module_plugin\n"
        "hook = fb_ep_hook_plugin:register\n"
        "broken = fb_ep_broken_plugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("fb_ep_module_plugin", "fb_ep_hook_plugin", "fb_ep_broken_plugin"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    isolated_registry._STATE.discovered = False
    names = list_pipelines()
    assert {"ep-module", "ep-hook", "raw-knn", "pca-knn"} <= set(names)
    assert any("broken" in failure.source and "missing dependency" in failure.error
               for failure in isolated_registry.plugin_failures())


def test_describe_is_json(digits):
    for name in ("raw-knn", "pca-knn"):
        description = create_pipeline(name, "smoke").describe()
        assert json.loads(json.dumps(description)) == description
        assert description["family"] == "classical" and "n_parameters" in description


def test_a_plugin_reusing_a_builtin_name_fails_itself_and_the_builtins_stay(tmp_path):
    """Before the fix, a loose plugin registering ``pca-knn`` before discovery made
    ``pipelines.classical.zoo`` fail to import, and ``--list`` lost the whole classical zoo."""
    import subprocess

    from tests.conftest import PROJECT_ROOT

    plugin = tmp_path / "duplicate.py"
    plugin.write_text(PLUGIN_SOURCE.format(name="pca-knn"))
    listed = subprocess.run([sys.executable, "run_all.py", "--plugin", str(plugin), "--list"],
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0
    for builtin in ("pca-knn", "raw-svm", "hog-svm", "fld-bayes2"):
        assert f"\n{builtin} " in listed.stdout
    [warning] = [line for line in listed.stderr.splitlines() if line.startswith("warning:")]
    assert warning.startswith(f"warning: plugin file {plugin} failed to load")
    assert "'pca-knn' is already registered by pipelines.classical.neighbors.pca_knn" in warning
    assert f"build in {plugin} cannot register it again" in warning


@pytest.mark.parametrize("name", ["hog-svm-vsv", "hog-svm-committee"])
def test_a_hog_svm_variant_the_quick_budget_misranks_is_left_out_of_it(name):
    """Its reason quotes validation accuracies: they are the committed stores' own, and they
    do invert the order (below hog-svm in quick, above it in full)."""
    import re

    from benchmarks.records.store import ResultsStore
    from pipelines.profiles import get_profile
    from pipelines.registry import get_entry
    from tests.conftest import PROJECT_ROOT

    why = get_entry(name).left_out(get_profile("quick"))
    assert why.startswith("needs the full profile") and why.endswith("see its full row")
    assert get_entry(name).left_out(get_profile("full")) is None
    assert get_entry(name).train_size(get_profile("full")) is None
    assert get_entry("hog-svm").left_out(get_profile("quick")) is None
    quoted = [float(figure) for figure in re.findall(r"(\d+\.\d\d)", why)]

    def stored(profile, pipeline):
        store = ResultsStore(PROJECT_ROOT / "results", "fashion-mnist", profile)
        [record] = [record for record in store.latest().values()
                    if record["name"] == pipeline and record["seed"] == 0
                    and record["split"]["name"] == "standard" and record["status"] == "ok"]
        return round(100 * record["metrics"]["validation"]["accuracy"], 2)

    assert quoted == [stored("quick", name), stored("quick", "hog-svm"),
                      stored("full", name), stored("full", "hog-svm")]
    assert quoted[0] < quoted[1] and quoted[2] > quoted[3]


def test_the_big_networks_are_left_out_of_the_quick_profile_and_say_why(tmp_path, capsys):
    from benchmarks.api import select_pipelines
    from benchmarks.cli import main
    from benchmarks.errors import FashionbenchError
    from pipelines.profiles import get_profile
    from pipelines.registry import create_pipeline, get_entry

    quick, full = get_profile("quick"), get_profile("full")
    for name in ("vgg16", "resnet50"):
        assert "needs the full profile or a GPU" in get_entry(name).left_out(quick)
        assert get_entry(name).left_out(full) is None
        assert get_entry(name).train_size(full) is None
        assert create_pipeline(name, "full").config.epochs == 100
    assert get_entry("mcnn").left_out(quick) is None
    # a pattern leaves them out with a note; naming one is refused in one line
    selected = select_pipelines(["*"], profile="quick")
    assert "vgg16" not in selected and "resnet50" not in selected and "mcnn" in selected
    assert "note: left out of the quick profile: resnet50, vgg16 (needs" in \
        capsys.readouterr().err
    assert "vgg16" in select_pipelines(["*"], profile="full")
    with pytest.raises(FashionbenchError, match="vgg16 is left out of the quick profile"):
        select_pipelines(["vgg16"], profile="quick")
    assert main(["--only", "vgg16", "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run it with --profile full" in err
