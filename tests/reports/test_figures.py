"""The leaderboard's figures as a reader sees them: labels that do not overlap, time in units."""

import dataclasses

import numpy as np
import pytest

from benchmarks.reports import figures
from benchmarks.reports.rows import Row


@pytest.mark.parametrize(("seconds", "text"), [
    (0.01, "10 ms"), (1, "1 s"), (10, "10 s"), (60, "1 min"), (600, "10 min"),
    (3600, "1 h"), (6 * 3600, "6 h"), (86400, "1 d")])
def test_fit_time_ticks_read_in_human_units(seconds, text):
    assert figures.human_duration(seconds) == text


def test_crowded_labels_never_overlap_each_other_or_a_marker():
    # 40 pipelines within a factor of 3 in time and 2 points of accuracy: the quick
    # leaderboard's crowd, where every label used to sit on its neighbours
    rng = np.random.default_rng(0)
    points = [(f"pipeline-{index:02d}", float(x), float(y)) for index, (x, y) in enumerate(
        zip(rng.uniform(1, 3, 40), rng.uniform(84, 86, 40), strict=True))]
    figure, axes = figures._subplots(figsize=(8, 5.5))
    axes.scatter([x for _, x, _ in points], [y for _, _, y in points])
    axes.set_xscale("log")
    boxes = figures.place_labels(figure, axes, points)
    assert 1 <= len(boxes) < len(points)  # some fit, the rest are left to the tables
    for index, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[index + 1:])
    labels = [text.get_text() for text in axes.texts]
    assert len(labels) == len(boxes)  # a label that found no place was removed


def test_a_label_keeps_off_an_unlabelled_marker():
    # the first place tried (right of and above the point) holds another pipeline's marker
    figure, axes = figures._subplots(figsize=(8, 5.5))
    axes.set_xlim(0, 10)
    axes.set_ylim(0, 10)
    label_at = axes.transData.inverted().transform(
        axes.transData.transform((5, 5)) + np.array([30, 12]))
    boxes = figures.place_labels(figure, axes, [("labelled", 5.0, 5.0)],
                                 markers=[(5.0, 5.0), tuple(label_at)])
    [box] = boxes
    marker = axes.transData.transform(label_at)
    assert not (box.x0 - 3 <= marker[0] <= box.x1 + 3 and box.y0 - 3 <= marker[1] <= box.y1 + 3)


@pytest.mark.parametrize("extra", [(), ((40, 17),)], ids=["ring", "ring-and-one-beside"])
def test_a_point_amid_others_gets_a_far_label_joined_to_it_by_a_line(extra):
    """Markers on every near place (a family's best in a crowd): its label sits farther
    out, clear of every marker, and the line matplotlib draws to it passes no other marker
    (one beside the first far place once caught a line checked along another path)."""
    figure, axes = figures._subplots(figsize=(8, 5.5))
    axes.set(xlim=(0, 10), ylim=(0, 10))
    centre = axes.transData.transform((5, 5))
    offsets = [(dx, dy) for dx in (-40, 40) for dy in (-20, -10, 0, 10, 20)] + list(extra)
    ring = [tuple(axes.transData.inverted().transform(centre + np.array(offset)))
            for offset in offsets]  # in every near place
    [box] = figures.place_labels(figure, axes, [("resnet20@modern[bfloat16]", 5.0, 5.0)],
                                 markers=[(5.0, 5.0), *ring])
    [label] = axes.texts
    assert label.arrow_patch is not None  # the line to its point
    figure.canvas.draw()
    drawn = label.arrow_patch.get_transform().transform_path(
        label.arrow_patch.get_path()).interpolated(50).vertices
    for marker in map(axes.transData.transform, ring):
        assert not (box.x0 - 3 <= marker[0] <= box.x1 + 3
                    and box.y0 - 3 <= marker[1] <= box.y1 + 3)
        assert np.hypot(*(drawn - marker).T).min() >= 4


def test_a_far_label_keeps_off_a_line_drawn_before_it():
    # two crowded points side by side: the second's label may not sit on the first's line
    figure, axes = figures._subplots(figsize=(8, 5.5))
    axes.set(xlim=(0, 10), ylim=(0, 10))
    to_data = axes.transData.inverted().transform
    centres = [axes.transData.transform((4.8, 5)), axes.transData.transform((5.2, 5))]
    crowd = [tuple(to_data(centre + np.array([dx, dy]))) for centre in centres
             for dx in (-40, 40) for dy in (-20, -10, 0, 10, 20)]
    points = [("first", *to_data(centres[0])), ("second", *to_data(centres[1]))]
    boxes = figures.place_labels(figure, axes, points,
                                 markers=[(x, y) for _, x, y in points] + crowd)
    figure.canvas.draw()
    for label, box in zip(axes.texts, boxes, strict=True):
        for other in axes.texts:
            if other is not label and other.arrow_patch is not None:
                line = other.arrow_patch.get_transform().transform_path(
                    other.arrow_patch.get_path()).interpolated(50).vertices
                assert not any(box.contains(*point) for point in line)


def make_row(name: str, family: str = "classical", fit_seconds: float = 1.0,
             mean_accuracy: float = 0.9, pareto: bool | None = None) -> Row:
    """A leaderboard row with what the figures read; the rest a stand-in."""
    return Row(name=name, family=family, reducer="–", runs=({"seed": 0},),
               accuracy=(mean_accuracy,), mean_accuracy=mean_accuracy,
               macro_f1=(mean_accuracy,), validation_accuracy=(), fit_seconds=fit_seconds,
               shared_fit_seconds=0.0, trained_elsewhere=0, predict_ms_per_1k=1.0,
               peak_rss_mb=0.0, n_parameters=None, train_size=100, hardware="cpu",
               per_class=(), seed_figure=None, pareto=pareto)


def leaderboard_rows(*rows: tuple) -> list[Row]:
    """The rows the accuracy figure reads, from (pipeline, family, fit s, accuracy, pareto)."""
    return [make_row(name, family, seconds, accuracy, pareto)
            for name, family, seconds, accuracy, pareto in rows]


def test_the_accuracy_figure_labels_the_frontier_and_each_familys_best(tmp_path, monkeypatch):
    rows = leaderboard_rows(("best-classical", "classical", 100.0, 0.92, True),
                            ("fast", "classical", 0.05, 0.85, True),
                            ("dominated", "classical", 200.0, 0.80, False),
                            ("best-deep", "deep", 900.0, 0.91, False))
    captured = {}
    original = figures.place_labels

    def spy(figure, axes, points, **options):
        captured["names"] = [name for name, _, _ in points]
        return original(figure, axes, points, **options)

    monkeypatch.setattr(figures, "place_labels", spy)
    path = figures.accuracy_vs_fit_time(rows, tmp_path / "figure.png", "title")
    assert path.exists()
    assert captured["names"] == ["best-classical", "best-deep", "fast"]


def test_the_legend_hides_no_point_and_no_label():
    # the quick profile's shape: a slow, poor network in the lower right corner, where a
    # fixed lower-right legend sat on top of it
    rows = leaderboard_rows(("raw-knn", "classical", 0.01, 0.82, True),
                            ("pca-svm", "classical", 1.0, 0.86, True),
                            ("hog-svm", "classical", 30.0, 0.90, True),
                            ("pca-kmeans", "classical", 0.7, 0.60, False),
                            ("cnn", "deep", 40.0, 0.87, False),
                            ("resnet50", "deep", 600.0, 0.75, False),
                            ("vgg16", "deep", 830.0, 0.52, False))
    figure = figures.draw_accuracy_vs_fit_time(rows, "title")
    renderer = figure.canvas.get_renderer()
    [axes] = figure.axes
    legend = axes.get_legend().get_window_extent(renderer)
    for row in rows:
        x, y = axes.transData.transform((row.fit_seconds, row.mean_accuracy * 100))
        assert not legend.contains(x, y), row.name
    labels = [text.get_window_extent(renderer) for text in axes.texts]
    assert labels and not any(label.overlaps(legend) for label in labels)


def test_training_curves_mark_whole_epochs_only():
    history = [{"accuracy": 0.2, "val_accuracy": 0.34, "loss": 2.1, "val_loss": 1.7},
               {"accuracy": 0.47, "val_accuracy": 0.52, "loss": 1.3, "val_loss": 1.2}]
    figure = figures.draw_training_curves(history, "vgg16 (seed 0)")
    figure.canvas.draw()
    for axes in figure.axes:
        low, high = axes.get_xlim()
        ticks = [tick for tick in axes.get_xticks() if low <= tick <= high]
        assert ticks and all(float(tick).is_integer() for tick in ticks)


def test_a_study_of_named_variants_is_a_dot_plot_tall_enough_for_its_names(tmp_path):
    from PIL import Image

    def rows(count):
        return [{"value": f"variant number {index} with a long name", "series": "mcnn",
                 "seed": None, "row": make_row(f"mcnn[{index}]", "deep",
                                                mean_accuracy=0.8 + index / 100)}
                for index in range(count)]

    sizes = []
    for count in (4, 16):
        path = figures.study_plot(rows(count), "variant", "title", tmp_path / f"{count}.png")
        with Image.open(path) as image:
            sizes.append(image.size)
    assert sizes[1][1] > sizes[0][1] * 2  # a row of height per name, not squeezed labels
    # variants without a result (not run in this profile) get no empty rows
    partial = [{**row, "row": row["row"] if index < 4 else None}
               for index, row in enumerate(rows(16))]
    path = figures.study_plot(partial, "variant", "title", tmp_path / "partial.png")
    with Image.open(path) as image:
        assert image.size[1] < (sizes[0][1] + sizes[1][1]) / 2  # nearer 4 rows than 16
    numeric = [{"value": value, "series": "mcnn", "seed": None,
                "row": make_row(f"mcnn[batch_size={value}]", "deep")}
               for value in ("32", "64", "128")]
    with Image.open(figures.study_plot(numeric, "batch size", "t", tmp_path / "n.png")) as image:
        assert image.size[1] < sizes[1][1]  # numbers stay a line plot of fixed height


def test_per_class_bars_start_at_zero_and_curves_share_their_scales():
    rows = [dataclasses.replace(make_row(name), per_class=(0.8,) * 10) for name in "ab"]
    figure = figures.draw_per_class_bars(rows, [str(index) for index in range(10)], "t")
    assert figure.axes[0].get_ylim() == (0, 100)
    plain = [{"accuracy": 0.80 + 0.01 * e, "val_accuracy": 0.82, "loss": 0.6 - 0.05 * e,
              "val_loss": 0.5} for e in range(5)]
    smoothed = [{"accuracy": 0.85, "val_accuracy": 0.9, "loss": 1.1, "val_loss": 1.0}] * 5
    limits = [[axes.get_ylim() for axes in figures.draw_training_curves(history, "t").axes]
              for history in (plain, smoothed)]
    assert limits[0] == limits[1] == [(50, 100), (0, 2.5)]


def test_a_saved_figure_is_matplotlibs_png_in_256_colours_with_its_text_and_no_version():
    import io

    from PIL import Image

    from benchmarks.reports.canvas import DPI, png_bytes

    figure, axes = figures._subplots(figsize=(6, 4))
    for shift in range(12):  # more lines than any leaderboard figure's colours
        axes.plot(np.sin(np.linspace(0, 6, 200) + shift), label=f"run {shift}")
    axes.legend()
    full = io.BytesIO()
    figure.savefig(full, format="png", dpi=DPI, bbox_inches="tight")
    saved = png_bytes(figure, {figures.SOURCE_KEY: "run-1", "Left out": None})
    with Image.open(full) as original, Image.open(io.BytesIO(saved)) as palette:
        assert palette.mode == "P" and palette.size == original.size
        assert palette.text == {figures.SOURCE_KEY: "run-1"}  # matplotlib's version left out
        difference = np.abs(np.asarray(palette.convert("RGB"), dtype=float)
                            - np.asarray(original.convert("RGB"), dtype=float))
    assert difference.mean() < 1.0 and np.percentile(difference, 99) < 16  # out of 255
    assert len(saved) < 0.6 * len(full.getvalue())
    assert png_bytes(figure, {figures.SOURCE_KEY: "run-1"}) == saved  # byte-stable


def test_a_long_name_stays_over_its_own_reliability_panel():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from benchmarks.reports.robustness import draw_reliability

    bins = {"count": [1] * 15, "accuracy": [0.5] * 15}
    names = [("resnet20@modern-ten-views[bfloat16][refit]", "deep"),
             ("hog-svm-committee-with-a-much-longer-name[refit]", "classical"),
             ("mcnn", "deep")]
    rows = [dataclasses.replace(make_row(name, family), ece=0.01 * (index + 1),
                                reliability=bins)
            for index, (name, family) in enumerate(names)]
    figure = draw_reliability(rows)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    titles = [axes.title.get_window_extent(renderer) for axes in figure.axes]
    for axes, title in zip(figure.axes, titles, strict=True):
        panel = axes.get_window_extent(renderer)
        assert panel.x0 - 12 <= title.x0 and title.x1 <= panel.x1 + 12, axes.get_title()
    assert not any(a.overlaps(b) for a, b in zip(titles, titles[1:], strict=False))
    assert figure.axes[0].get_title().startswith("resnet20@modern-ten-views\n[bfloat16][refit]")
