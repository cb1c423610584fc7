"""The kill campaign of benchmarks/kill_campaign.py, a few kills of it: a run and a sweep sent SIGKILL
at seeded random moments, each time carried on with --resume (or started again where nothing could
be resumed), end with the history and the weights of the ones never stopped, bit for bit, and leave
no file behind that those do not. The full campaign, dozens of kills, is the benchmark's. And what
the campaign found: the checkpoints a kill inside TensorFlow's CheckpointManager leaves, removed."""

import importlib.util
import re
import sys

from conftest import REPO, made_up_rows, write_rows
from looptrain.experiment import load_experiment
from looptrain.launch.console import DotsReporter
from looptrain.runfolder.sweep import parse_sweep


def load_benchmark():
    """benchmarks/ is not a package: the script is loaded from its file."""
    spec = importlib.util.spec_from_file_location("kill_campaign", REPO / "benchmarks" / "kill_campaign.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


kill_campaign = load_benchmark()
# A process's start-up is most of what each attempt costs: no XLA to compile, no histograms to write
# (the benchmark keeps Tiny's own XLA).
CHEAPER = ("jit_compile=false", "histogram_every=0")


def campaign(tmp_path, kills, seed, epochs, sweep=None):
    """A few kills, every attempt killed until there are enough (the benchmark kills a resumed attempt
    half the time): each trial costs a process that finishes, and the kills are what is tested."""
    setup = kill_campaign.Setup(experiment=REPO / "experiments" / "tiny.py",
                                data=write_rows(tmp_path / "rows.csv.gz", made_up_rows(kill_campaign.ROWS)), epochs=epochs,
                                sweep=parse_sweep(sweep) if sweep else None, fields=CHEAPER)
    lines = []
    result = kill_campaign.campaign(setup, kills, seed, tmp_path / "campaign", report=lines.append, again=1.0)
    return result, "\n".join(lines + [kill_campaign.summary(setup, kills, seed, result)])


def test_a_run_killed_at_random_moments_ends_exactly_as_one_never_stopped(tmp_path):
    result, summary = campaign(tmp_path, kills=2, seed=1, epochs=8)
    assert not result.failures, summary
    assert result.kills >= 2 and result.exact == result.trials >= 1, summary
    assert sum(result.landed.values()) == result.kills


def test_a_sweep_killed_between_and_inside_its_points_ends_exactly_as_one_never_stopped(tmp_path):
    result, summary = campaign(tmp_path, kills=2, seed=2, epochs=5, sweep="seed=0,1")
    assert not result.failures, summary
    assert result.kills >= 2 and result.exact == result.trials >= 1, summary


def test_what_a_kill_inside_the_checkpoint_managers_save_leaves_is_removed(tmp_path):
    """TensorFlow's CheckpointManager moves a checkpoint into place, then lists it, then deletes the
    oldest. Killed between the first two, the next run resumes from that checkpoint but the manager
    never lists it, so never deletes it; killed between the last two at the run's end, a fourth
    checkpoint stays for good. Both found by the campaign; here made by hand, with a data file without
    its index, a checkpoint's temporary folder and a temporary copy of the list, as other kills leave."""
    from looptrain.train import train

    data_path = write_rows(tmp_path / "rows.csv.gz", made_up_rows(500))
    run_dir = tmp_path / "run"
    checkpoints = run_dir / "checkpoints"

    def run(max_epochs, resume):
        fields = {"n_validation": 100, "n_train": 400, "batch_size": 100, "checkpoint_every": 1,
                  "max_epochs": max_epochs, "jit_compile": False, "histogram_every": 0}
        train(load_experiment(REPO / "experiments" / "tiny.py", fields), data_path, run_dir, DotsReporter(),
              resume=resume)

    def on_disk():
        return sorted(path.name for path in checkpoints.iterdir())

    def whole(*numbers):
        return sorted(["checkpoint"] + [f"ckpt-{n}.{part}" for n in numbers
                                        for part in ("data-00000-of-00001", "index")])

    run(max_epochs=6, resume=False)
    assert on_disk() == whole(4, 5, 6)
    # Killed after ckpt-6 was in place, before the list named it; and before the manager deleted ckpt-3.
    state = (checkpoints / "checkpoint").read_text()
    state = re.sub(r'all_model_checkpoint_paths: "ckpt-6"\n', "", state.replace('path: "ckpt-6"', 'path: "ckpt-5"'))
    (checkpoints / "checkpoint").write_text(state)
    for suffix in ("index", "data-00000-of-00001"):
        (checkpoints / f"ckpt-3.{suffix}").write_bytes((checkpoints / f"ckpt-4.{suffix}").read_bytes())
    (checkpoints / "ckpt-2.data-00000-of-00001").write_bytes(b"the index never written")
    (checkpoints / "ckpt-7_temp").mkdir()
    (checkpoints / "ckpt-7_temp" / "part-00000-of-00001.index").write_bytes(b"cut short")
    (checkpoints / "checkpoint.tmp3f2a9c").write_text("cut short")

    run(max_epochs=6, resume=True)  # at its end already: nothing to save, the folder tidied all the same
    assert on_disk() == whole(4, 5, 6)
    run(max_epochs=9, resume=True)  # ckpt-6, which the manager never listed, goes in its turn
    assert on_disk() == whole(7, 8, 9)
