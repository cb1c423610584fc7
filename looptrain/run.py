"""The command line: `python -m looptrain.run EXPERIMENT.py [EXPERIMENT.py ...] [options]`.

The only place that turns text into configuration and errors into exit codes: 2 for bad input, 3 for
a loss that is no longer a number, 4 for a lost worker, 5 for a write the disk refused, 130 or 143
for a signal (docs/resume-and-errors.md). `main` checks every experiment and every folder before the
first run trains (`looptrain.launch.plan`), then trains the runs in turn (`launch_run`), each in a
process of its own when there are several (`looptrain.launch.isolation`), and draws one comparison
picture of them. `--eager` (or LOOPTRAIN_EAGER=1) is for a debugger (README, "Step through it");
`--distribute` trains on several devices or machines (docs/distributed.md). What is not here:
training a run (`looptrain.train`), and the rules for what may be written where
(`looptrain.runfolder`).
"""

import contextlib
import gc
import os
import shlex
import signal
import sys
from pathlib import Path

from looptrain.config import BOOLEAN_WORDS, parse_set
from looptrain.errors import ArgumentParser, InputError, Interrupted, NumericalFault, WorkerLost, WriteFailed
from looptrain.launch.console import make_reporter
from looptrain.launch.isolation import ProcessDied, in_own_process
from looptrain.launch.plan import check_experiments, finished_row, plan_runs, run_folder, sweep_done, train_planned_run
from looptrain.launch.quiet import import_tensorflow_quietly
from looptrain.results.aggregate import seed_row
from looptrain.runfolder import lock, ownership
from looptrain.runfolder.files import failed, write_whole
from looptrain.runfolder.history import common_folder
from looptrain.runfolder.lock import FolderLock
from looptrain.runfolder.sweep import parse_sweep, point_folder, point_name, write_record


def make_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="looptrain", description="Train the 'Overfit and underfit' experiments "
                                                   "with a hand-written loop.")
    parser.add_argument("experiments", nargs="+", metavar="EXPERIMENT.py", help="experiment files to run in turn")
    parser.add_argument("--data", default="synthetic",
                        help="'synthetic' (default, the project's own HIGGS rows or reviews), 'higgs' (download "
                             "the full HIGGS.csv.gz), the path of a HIGGS-layout .csv.gz, or for the IMDB "
                             "experiments 'imdb' (keras.datasets.imdb)")
    parser.add_argument("--max-epochs", type=int, help="stop after this many epochs at the latest")
    parser.add_argument("--logdir", default="runs", type=Path,
                        help="outputs go to LOGDIR/<experiment>/, or LOGDIR/imdb/<experiment>/ for an IMDB one")
    parser.add_argument("--seed", type=int, help="seed for weights, shuffling and dropout")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a configuration field, e.g. --set patience=50")
    parser.add_argument("--dots", action="store_true", help="print a dot per epoch instead of a progress bar")
    parser.add_argument("--sweep", metavar="FIELD=VALUE,VALUE,...",
                        help="run each experiment once per value of one field, each run in LOGDIR/<experiment>/"
                             "FIELD=VALUE/, e.g. --sweep seed=0,1,2,3,4 or --sweep n_train=1000,10000,100000")
    parser.add_argument("--resume", action="store_true",
                        help="carry on each run (or each sweep) from its latest checkpoint instead of starting "
                             "it again")
    parser.add_argument("--eager", action="store_true",
                        help="run the steps as plain Python, for a debugger (slower; LOOPTRAIN_EAGER=1 does the same)")
    parser.add_argument("--distribute", choices=["mirrored", "multiworker"],
                        help="train on all local devices (mirrored) or on the machines in TF_CONFIG (multiworker)")
    parser.add_argument("--profile", type=int, metavar="EPOCH",
                        help="trace this epoch (counted from 0) with TensorFlow's profiler, into each run's folder "
                             "(TensorBoard's Profile tab; docs/training-options.md)")
    return parser


def parse_args(argv):
    return make_parser().parse_args(argv)


# What LOOPTRAIN_EAGER may say, in any case: a boolean field's words, or nothing at all. Anything else
# is refused rather than guessed at.
EAGER_WORDS = {**BOOLEAN_WORDS, "": False}


def eager_requested(flag: bool, environ) -> bool:
    """`--eager`, or LOOPTRAIN_EAGER=1 from the environment: an IDE's launch configuration sets an
    environment variable more easily than it edits arguments. Either one turns eager mode on."""
    text = environ.get("LOOPTRAIN_EAGER", "")
    word = text.strip().lower()
    if word not in EAGER_WORDS:
        raise InputError(f"LOOPTRAIN_EAGER must be 1 or 0 (or true/false, yes/no, on/off, empty), got {text!r}")
    return flag or EAGER_WORDS[word]


def run_eagerly() -> None:
    """Turn every `tf.function` back into plain Python, process-wide. (The loader is numpy, and the
    `tf.data` pipelines map no Python function, so there is nothing for tf.data's debug mode to do.)
    This is the one switch: anything that runs many steps in one graph must ask
    `tf.config.functions_run_eagerly()` and fall back to one step at a time."""
    import tensorflow as tf

    tf.config.run_functions_eagerly(True)


def main(argv=None) -> int:
    args = parse_args(argv)
    reporter = make_reporter(args.dots)
    try:
        fields = parse_set(args.set)
        if args.max_epochs is not None:
            fields["max_epochs"] = args.max_epochs
        if args.seed is not None:
            fields["seed"] = args.seed
        if args.profile is not None and args.profile < 0:
            raise InputError(f"--profile EPOCH counts epochs from 0, got {args.profile}")
        sweep = parse_sweep(args.sweep) if args.sweep else None
        eager = eager_requested(args.eager, os.environ)
        # Several runs train each in a process of its own, so that one run's memory is returned before
        # the next starts; this process then never imports TensorFlow. Not in a debugger, which stops
        # only in its own process, nor under a strategy, which joins its cluster once per process.
        apart = (len(args.experiments) > 1 or sweep is not None) and not eager and args.distribute is None
        strategy, chief = None, True
        if apart:
            experiments = in_own_process(check_experiments, args.experiments, fields, sweep, args.data)
        else:
            import_tensorflow_quietly()
            from looptrain.loop.distribute import is_chief, make_strategy

            # Before TensorFlow runs any op, checking the experiments' models among them: a multi-worker
            # strategy joins its cluster at program start.
            strategy = make_strategy(args.distribute)
            chief = is_chief(strategy)  # the only process that writes
            experiments = check_experiments(args.experiments, fields, sweep, args.data, args.distribute is not None)
        runs = plan_runs(experiments, args.logdir, sweep, args.resume)
        folders = [run_folder(args.logdir, experiment) for experiment in experiments]
        several = len(runs) > 1 or sweep is not None
        if chief:
            check_outputs(folders, several)
    except InputError as error:
        print(f"looptrain: error: {error}", file=sys.stderr)
        return 2
    except ProcessDied as death:
        return death.exit_code  # a signal while the experiments were checked, or a bug it printed

    if eager:
        run_eagerly()
        reporter.warn("eager mode: the steps run as plain Python, for a debugger, several times slower")
    with contextlib.ExitStack() as held:  # each sweep's folder, held for the whole command
        try:
            sweeps, rows = start_sweeps(held, experiments, folders, sweep, args.resume, reporter) if chief else ({}, [])
            for run in runs:
                rows.append(launch_run(run, fields, args, reporter, strategy, apart))
                if run.folder.parent in sweeps:  # a sweep's point is done: its record says so at once
                    experiment, done = sweeps[run.folder.parent]
                    done.append(run.fields[sweep.field])
                    write_record(run.folder.parent, experiment, sweep, done)
        except (InputError, NumericalFault, WorkerLost, WriteFailed) as error:
            print(f"looptrain: error: {error}", file=sys.stderr)
            if isinstance(error, WorkerLost):
                # A worker lost during an eager all-reduce leaves TensorFlow's thread pool for it open, held
                # by the failed call's frames. Freed only at exit, after its pipes are closed, it would
                # print a traceback under our one line; freed now, it goes quietly.
                error.__context__ = None
                gc.collect()
            return error.exit_code
        except Stopped as stopped:
            print(f"looptrain: {stopped}; to resume: {resume_command(argv, stopped.run.experiment)}",
                  file=sys.stderr)
            return stopped.exit_code

    if chief and several:
        # Imported only now, the runs ended: matplotlib would have doubled what this process held beside each.
        from looptrain.results.curves import draw_folders

        # The tutorial's log-epochs axis for curves; a sweep over another field draws its own axes.
        curves = sweep is None or sweep.field == "seed"
        try:
            write_whole(comparison_path(folders), lambda path: draw_folders(folders, path, log_x=curves))
        except (InputError, WriteFailed) as error:
            print(f"looptrain: error: {error} (the runs themselves are written whole)", file=sys.stderr)
            return error.exit_code
    if sweep is not None and sweep.field == "seed":  # and each experiment's mean ± sd over its seeds
        rows += [seed_row(f"{experiment.name} ({len(sweep.values)} seeds)",
                          [row for row in rows if row["name"].startswith(f"{experiment.name} seed=")])
                 for experiment in experiments]
    reporter.summary(rows)
    return 0


class Stopped(Exception):
    """A run ended by a signal, in this process (`Interrupted`) or its own (`ProcessDied`)."""

    def __init__(self, run, message: str, exit_code: int):
        super().__init__(message)
        self.run, self.exit_code = run, exit_code


def launch_run(run, fields: dict, args, reporter, strategy, apart: bool) -> dict:
    """Train one planned run, in a process of its own if `apart` and else in this one, and return its
    summary row; a run a signal ended, in either process, is `Stopped`."""
    try:
        if apart:
            return in_own_process(train_planned_run, run, fields, args.data, args.dots, None, None, args.profile)
        return train_in_this_process(run, fields, args, reporter, strategy)
    except Interrupted as interruption:
        raise Stopped(run, str(interruption), interruption.exit_code) from None
    except ProcessDied as death:
        if death.returncode >= 0:  # a second signal stopped it at once, or a bug (it printed its traceback)
            raise SystemExit(death.exit_code) from None
        # Killed from outside: the out-of-memory killer, most likely.
        raise Stopped(run, f"error: {run.name}: its process was killed by {signal.Signals(-death.returncode).name}",
                      death.exit_code) from None


def start_sweeps(held: contextlib.ExitStack, experiments, folders, sweep, resume: bool, reporter) -> tuple[dict, list]:
    """Take each sweep's folder for the whole command and write its sweep.json; a fresh sweep first
    deletes what looptrain wrote there before (a run, or another sweep). Return {folder: (experiment,
    the values of its points done)} and the summary rows of those points, read back."""
    sweeps, rows = {}, []
    for experiment, folder in zip(experiments, folders) if sweep is not None else ():
        taken = held.enter_context(FolderLock(folder))
        if taken.taken_over:
            reporter.warn(taken.taken_over)
        done = list(sweep_done(folder, sweep)) if resume else []
        if not resume:
            try:
                ownership.clear_folder(folder)
            except OSError as error:
                raise failed(folder, error) from None
        write_record(folder, experiment, sweep, done)
        sweeps[folder] = (experiment, done)
        rows += [finished_row(point_folder(folder, sweep, value), point_name(experiment.name, sweep, value))
                 for value in done]
    return sweeps, rows


def train_in_this_process(run, fields: dict, args, reporter, strategy) -> dict:
    """Train one planned run in this process (a command of one run, a debugger's, or a strategy's); a
    cluster that lost a worker is one line (`WorkerLost`), not TensorFlow's traceback."""
    from looptrain.loop.lost_worker import lost_worker_errors, worker_lost

    try:
        return train_planned_run(run, fields, args.data, args.dots, reporter, strategy, args.profile)
    except lost_worker_errors(args.distribute == "multiworker") as error:
        raise worker_lost(run.name, error, strategy, run.folder) from None


def check_outputs(folders: list[Path], several: bool) -> None:
    """Refuse, before anything trains, a folder that holds anything looptrain did not write or that
    another run is writing, and a comparison picture that is not looptrain's."""
    for folder in folders:
        ownership.check_folder(folder)
        lock.check_free(folder)
    if several:
        ownership.check_file(comparison_path(folders), "choose another --logdir")


def comparison_path(folders: list[Path]) -> Path:
    """Where several runs' comparison picture goes: the folder that holds them."""
    return common_folder(folders) / "comparison.png"


def resume_command(argv, experiment_path) -> str:
    """The command that resumes the interrupted experiment: this one's options (its sweep among them),
    that experiment, --resume."""
    given = sys.argv[1:] if argv is None else argv
    options = [word for word in given if not word.endswith(".py") and word != "--resume"]
    return shlex.join(["python", "-m", "looptrain.run", str(experiment_path), *options, "--resume"])


def cli():
    """The `looptrain` console script, the same as `python -m looptrain.run`."""
    sys.exit(main())


if __name__ == "__main__":
    cli()
