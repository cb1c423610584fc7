"""The notebook, executed through a Jupyter kernel (nbclient and ipykernel, the dev extra): every cell runs
with a handful of epochs, its pictures and tables come out, and the committed file is left as it was;
and under a kernel the progress is rich's live display, not the dots."""

import hashlib
import json

import nbclient
import nbformat

from conftest import REPO

NOTEBOOK = REPO / "docs" / "overfit_and_underfit.ipynb"


def execute(notebook, folder, timeout=900):
    """Run every cell of `notebook` in a fresh kernel started in `folder`; a failing cell raises."""
    nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def outputs(notebook, kind: str) -> list:
    return [output["data"][kind] for cell in notebook.cells for output in cell.get("outputs", [])
            if kind in output.get("data", {})]


def test_under_a_jupyter_kernel_the_progress_is_richs_live_display(tmp_path):
    chosen = nbformat.v4.new_code_cell("from looptrain.launch.console import make_reporter\n"
                                       "print(type(make_reporter(dots=False)).__name__, type(make_reporter(dots=True)).__name__)")
    # Three epochs of a run as `train` reports them: rich's live bar goes into an ipywidgets Output in
    # the cell, between the run's heading and its last line (without ipywidgets rich draws no bar).
    bar = nbformat.v4.new_code_cell(
        "reporter = make_reporter(dots=False)\n"
        "reporter.start('Tiny', 3, 'Tiny: the heading')\n"
        "for epoch in range(3):\n"
        "    reporter.epoch(epoch, {'seconds': epoch + 1.0, 'binary_crossentropy': 0.6,\n"
        "                           'val_binary_crossentropy': 0.62, 'val_auc': 0.7, 'learning_rate': 1e-3}, epoch)\n"
        "reporter.finish('Tiny: the last line')")
    notebook = execute(nbformat.v4.new_notebook(cells=[chosen, bar]), tmp_path, timeout=120)
    assert notebook.cells[0].outputs[0]["text"].split() == ["ProgressReporter", "DotsReporter"]
    shown = [next(iter(sorted(set(output["data"]) - {"text/plain"})), "text/plain") for output in notebook.cells[1].outputs]
    texts = [output["data"]["text/plain"] for output in notebook.cells[1].outputs]
    assert texts[0] == "Tiny: the heading\n"
    assert 0 < shown.index("application/vnd.jupyter.widget-view+json") < texts.index("Tiny: the last line\n")
    assert not any("ipywidgets" in text for text in texts)


def test_outside_a_notebook_and_a_terminal_the_progress_is_dots(capsys):
    from looptrain.launch.console import DotsReporter, make_reporter

    assert isinstance(make_reporter(dots=False), DotsReporter)  # pytest's captured stdout is neither


def test_the_notebook_runs_with_a_handful_of_epochs_and_is_left_unchanged(tmp_path, monkeypatch):
    committed = hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest()
    monkeypatch.setenv("LOOPTRAIN_NOTEBOOK_EPOCHS", "2")  # the kernel inherits this process's environment
    monkeypatch.setenv("LOOPTRAIN_NOTEBOOK_TEST_ROWS", "1000")  # not 50,000 test rows scored at each run's end
    monkeypatch.setenv("LOOPTRAIN_NOTEBOOK_LOGDIR", str(tmp_path / "runs"))
    notebook = execute(nbformat.read(NOTEBOOK, as_version=4), tmp_path)

    errors = [output for cell in notebook.cells for output in cell.get("outputs", [])
              if output["output_type"] == "error" or output.get("name") == "stderr"]
    assert errors == []  # nothing failed, and TensorFlow's start-up notices stayed out of the cells
    # The pictures: the features, the schedule, the sizes, the regularizers, the weights, the seeds'
    # bands, the remedies, Large's reliability diagram and the lab's accuracies (and the learning curve of
    # the results, where it is committed).
    assert len(outputs(notebook, "image/png")) >= 9
    tables = [table for table in outputs(notebook, "text/markdown") if table.startswith("| experiment |")]
    assert len(tables) == 5 and all("| Large |" in table for table in tables[1:4])
    assert "| Memorization |" in tables[4]
    header = (tmp_path / "runs" / "noisy_labels" / "history.csv").read_text().splitlines()[0].split(",")
    assert {"clean_accuracy", "flipped_accuracy"} <= set(header)  # the lab's runs measure the two kinds of rows
    # The test table: a row for the best and one for the final weights of each size, as test.json has them.
    scores = json.loads((tmp_path / "runs" / "large" / "test.json").read_text())
    assert scores["n_test"] == 1000
    assert f"| Large | final | 1 | {scores['final']['binary_crossentropy']:.4f} |" in tables[1]
    source = next(table for table in outputs(notebook, "text/markdown") if table.startswith("```python"))
    assert "regularization_loss(model)" in source and "training=True" in source  # the train step, shown
    for name in ("tiny", "large", "combined", "batchnorm", "symmetries", "medium-100000", "memorization"):
        assert (tmp_path / "runs" / name / "history.csv").read_text().count("\n") == 1 + 2  # two epochs each
    assert sorted(path.name for path in (tmp_path / "runs" / "seeds" / "small").iterdir()) == [
        "seed=0", "seed=1", "seed=2", "sweep.json"]
    assert hashlib.sha256(NOTEBOOK.read_bytes()).hexdigest() == committed


def test_the_notebook_follows_the_tutorials_order_then_the_remedies_it_only_names():
    headings = [line.lstrip("# ").strip() for cell in nbformat.read(NOTEBOOK, as_version=4).cells
                if cell.cell_type == "markdown" for line in cell.source.splitlines() if line.startswith("## ")]
    assert headings == ["Setup", "The Higgs dataset", "Training procedure", "Demonstrate overfitting",
                        "View in TensorBoard", "Strategies to prevent overfitting", "Conclusions",
                        "More data", "Error bars", "Batch normalization and augmentation",
                        "Memorization and label noise", "Next"]
