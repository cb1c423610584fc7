"""The runs one command makes, and training one of them.

A command names experiment files and, with `--sweep`, a field and its values: each experiment is one
run, or one run per value (`looptrain.runfolder.sweep`), each in its folder below `--logdir`.
`check_experiments` loads every file and every point's configuration first, so that a typo in the
third file, a value that does not fit or more test rows than the data has stops the command before
the first run trains; `plan_runs`
lays the runs out in their folders; `train_planned_run` trains one of them, in whichever process
calls it, and returns its summary row. What is not here: the command line's text and exit codes,
and choosing the process a run trains in (`looptrain.run`); the training itself (`looptrain.train`).
"""

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from looptrain.config import Config
from looptrain.errors import InputError
from looptrain.experiment import check_model, load_experiment
from looptrain.launch.quiet import import_tensorflow_quietly
from looptrain.runfolder.history import read_run, summarize
from looptrain.runfolder.scores import read_scores
from looptrain.runfolder.sweep import Sweep, point_folder, point_name, read_record


@dataclass(frozen=True)
class Checked:
    """An experiment file, loaded and checked: what the command needs of it without TensorFlow."""

    path: Path
    name: str  # "Combined"
    config: Config  # with the command's fields; a sweep's points each change one of them


@dataclass(frozen=True)
class PlannedRun:
    experiment: Path  # the experiment file
    name: str  # "Tiny", or "Tiny seed=3" for a point of a sweep
    fields: dict  # the command's fields, and the point's value
    folder: Path
    resume: bool  # carry on from the folder's checkpoint


def check_experiments(paths: list[str], fields: dict, sweep: Sweep | None, data_source: str,
                      distributed: bool = False) -> list[Checked]:
    """Load every experiment file with the command's fields, and with each value of the sweep, and check
    that `data_source` (`--data`) holds the test rows each asks for: any problem is an `InputError`
    before anything trains, a field the loop cannot honour under `--distribute` among them. This
    imports TensorFlow (experiment files import Keras), so a command of several runs asks it of a
    process of its own."""
    if sweep is not None and sweep.field in fields:
        raise InputError(f"--sweep {sweep.field}: the command sets it too (--set, --seed or --max-epochs); "
                         f"give it one way")
    import_tensorflow_quietly()  # in whichever process this runs, before an experiment file imports Keras
    from looptrain.loop.distribute import refuse_unsupported

    checked, counted = [], {}

    def check(experiment):
        if distributed:
            refuse_unsupported(experiment.config)
        check_model(experiment)
        check_test_rows(data_source, experiment.config, counted)

    for path in paths:
        experiment = load_experiment(path, fields)
        check(experiment)
        for value in sweep.values if sweep else ():
            try:
                check(load_experiment(path, {**fields, sweep.field: value}))
            except InputError as error:
                raise InputError(f"--sweep {sweep.label(value)}: {error}") from None
        checked.append(Checked(experiment.path, experiment.name, experiment.config))
    return checked


def check_test_rows(data_source: str, config: Config, counted: dict) -> None:
    """Refuse an `n_test` the data cannot give past its validation and training rows, as the loader
    would when the run starts (`higgs.load`, `reviews.load`), but before the first run of the command
    trains. A synthetic source makes fresh rows, so it always can; a file's rows are counted once
    (in `counted`); a source that is wrong in another way is left for the run to refuse."""
    from looptrain.data import higgs, reviews

    if config.n_test is None:  # a default takes what there is
        return
    if config.dataset == "imdb":
        problem = data_source == "imdb" and reviews.test_reviews_problem(higgs.KERAS_IMDB,
                                                                         reviews.KERAS_TEST_REVIEWS, config)
    elif data_source == "higgs":
        problem = higgs.test_rows_problem("the HIGGS file", higgs.HIGGS_ROWS, config)
    elif data_source not in ("synthetic", "imdb") and Path(data_source).is_file():
        if data_source not in counted:
            counted[data_source] = higgs.count_rows(Path(data_source))
        problem = counted[data_source] is not None and higgs.test_rows_problem(
            f"data file {data_source}", counted[data_source], config)
    else:
        problem = None
    if problem:
        raise InputError(problem)


def run_folder(logdir: Path, experiment) -> Path:
    """Where a run's files go: LOGDIR/<file stem>/, and LOGDIR/imdb/<file stem>/ for an IMDB experiment,
    so that experiments/imdb/l2.py never replaces experiments/l2.py's run."""
    folder = logdir / "imdb" if experiment.config.dataset == "imdb" else logdir
    return folder / Path(experiment.path).stem


def plan_runs(experiments: list[Checked], logdir: Path, sweep: Sweep | None, resume: bool) -> list[PlannedRun]:
    """Each experiment's run, or one run per value of the sweep. Resuming a sweep, a point that is done
    is left out, a point with a checkpoint carries on from it, and the others start afresh."""
    runs = []
    for experiment in experiments:
        folder = run_folder(logdir, experiment)
        if sweep is None:
            runs.append(PlannedRun(experiment.path, experiment.name, {}, folder, resume))
            continue
        done = sweep_done(folder, sweep) if resume else []
        for value in sweep.values:
            if value not in done:
                point = point_folder(folder, sweep, value)
                runs.append(PlannedRun(experiment.path, point_name(experiment.name, sweep, value),
                                       {sweep.field: value}, point, resume and has_checkpoint(point)))
    return runs


def sweep_done(folder: Path, sweep: Sweep) -> list:
    """The points of `folder`'s sweep that are done, for `--resume`; a folder holding another sweep, or
    none, is an `InputError`."""
    record = read_record(folder)
    if record is None:
        raise InputError(f"nothing to resume: {folder} holds no sweep; run the sweep without --resume")
    if record.get("field") != sweep.field or record.get("values") != list(sweep.values):
        given = Sweep(record.get("field"), tuple(record.get("values", ())))
        raise InputError(f"cannot resume: {folder} holds the sweep {given}, not {sweep}; give the same --sweep, "
                         f"or another --logdir")
    return record["done"]


def has_checkpoint(folder: Path) -> bool:
    return any((folder / "checkpoints").glob("ckpt-*.index"))


def finished_row(folder: Path, name: str) -> dict:
    """The summary row of a run finished earlier, read back from its folder."""
    run = read_run(folder)
    return summarize(name, run.epochs, run.best_epoch, run.scores)


def train_planned_run(run: PlannedRun, fields: dict, data_source: str, dots: bool, reporter=None,
                      strategy=None, profile_epoch: int | None = None) -> dict:
    """Train one planned run in the process that calls this, and return its summary row. `fields` are
    the command's; `data_source` is `--data`. A command of several runs calls this in a process of its
    own, which makes its own reporter; a command of one run passes its reporter, and its strategy
    under `--distribute`. `profile_epoch` is `--profile`'s."""
    import_tensorflow_quietly()
    from looptrain.data import cache, higgs
    from looptrain.launch.console import make_reporter
    from looptrain.loop.distribute import is_chief
    from looptrain.train import train

    reporter = reporter or make_reporter(dots)
    experiment = load_experiment(run.experiment, {**fields, **run.fields})
    experiment = dataclasses.replace(experiment, name=run.name)
    data_path = higgs.resolve(data_source, experiment.config, progress=reporter.rows_made)
    if isinstance(data_path, cache.InMemory):
        reporter.warn(f"{data_path.why}; making the rows in memory for this run instead")
    history = train(experiment, data_path, run.folder, reporter, run.resume, strategy, profile_epoch)
    scores = read_scores(run.folder) if is_chief(strategy) else None  # only the chief writes test.json
    return summarize(run.name, history.epochs, history.best_epoch, scores)
