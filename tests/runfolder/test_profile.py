"""`--profile EPOCH`: one epoch's trace, where TensorBoard's Profile tab looks for it, holding that epoch's graph."""

from tensorflow.tsl.profiler.protobuf import xplane_pb2

from conftest import REPO, assert_one_line_error, made_up_rows, write_rows
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.run import main
from looptrain.train import train

SHRUNK = {"n_validation": 100, "n_train": 400, "batch_size": 100, "max_epochs": 3, "histogram_every": 0,
          "jit_compile": False}


def traced_ops(trace) -> set[str]:
    """The names of what the profiler saw run, from its XSpace protobuf."""
    space = xplane_pb2.XSpace()
    space.ParseFromString(trace.read_bytes())
    return {event.name for plane in space.planes for event in plane.event_metadata.values()}


def test_the_profiled_epoch_leaves_one_trace_of_its_graph_and_a_run_again_clears_it(tmp_path):
    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    experiment = load_experiment(REPO / "experiments" / "tiny.py", SHRUNK)
    history = train(experiment, data_path, tmp_path / "run", DotsReporter(), profile_epoch=1)

    assert len(history.epochs) == 3
    [trace] = (tmp_path / "run" / "plugins" / "profile").glob("*/*.xplane.pb")  # one epoch, one trace
    ops = traced_ops(trace)
    assert any("run_epoch" in name for name in ops), sorted(ops)[:20]  # the epoch's graph, one call
    assert any("MatMul" in name for name in ops)  # and the ops inside it

    train(experiment, data_path, tmp_path / "run", DotsReporter())  # the same run again, not profiled
    assert not (tmp_path / "run" / "plugins").exists()  # the trace was the run's own, and went with it


def test_a_negative_epoch_is_refused(tmp_path, capsys):
    assert_one_line_error(main, [str(REPO / "experiments" / "tiny.py"), "--profile", "-1", "--logdir",
                                 str(tmp_path / "runs")], capsys, "--profile EPOCH counts epochs from 0, got -1")
