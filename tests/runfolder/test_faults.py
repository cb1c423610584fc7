"""A fault campaign: a run's writes refused at every point where one can be refused, not at a few
chosen ones, each case through the real command in a process of its own.

A full disk is a tmpfs with exactly so many pages free (tmpfs counts its space in pages): one page
more each time, and the disk runs out a little further into the run, until every kind of file has
been refused: the folder's lock, config.json, the TensorBoard summaries, a checkpoint, history.csv,
best.weights.h5, final.weights.h5, the test rows' test.json, reliability.png, curves.png, the HParams
session's events, a sweep's sweep.json and comparison picture,
the synthetic data cache, and with `--profile` the profiler's trace.
Where to step the free space is worked out from a run on an ample disk, its files counted in pages,
and the order in which a run writes them. A read-only filesystem and a file too large
(`RLIMIT_FSIZE`) are the other faults. Each case's outcome goes through `check`, which lists what is
wrong with it: an exit code other than the table's (docs/resume-and-errors.md, "What survives
what"), more than one line on stderr, a traceback, a crash, a temporary file left behind, a file of
the user's changed, a file kept that does not read back whole, a line that does not say what was kept.

The suite runs one case for each kind of file, a dozen runs of a shrunk Tiny; the whole campaign,
page by page, is `benchmarks/fault_campaign.py`, which imports this file. Mounting a tmpfs needs root
(CAP_SYS_ADMIN): where it is refused, the tests skip and say why.
"""

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import test_what_survives

from conftest import made_up_rows, write_rows

PAGE = os.sysconf("SC_PAGE_SIZE")  # what a tmpfs gives out and counts its space in
TINY = test_what_survives.TINY
# Tiny, shrunk and without XLA (the compiler would only add seconds), a checkpoint every epoch: three
# checkpoints, the summaries, the history, the weights and the picture in a short run.
SHRUNK = ["--set", "n_validation=100", "--set", "n_train=400", "--set", "batch_size=100", "--set", "jit_compile=false",
          "--max-epochs", "3", "--set", "checkpoint_every=1", "--dots"]
# For a fault set mid-run: a run that only a refused write ends, with a checkpoint every 50 epochs.
ENDLESS = ["--max-epochs", "100000", "--set", "patience=100000", "--set", "checkpoint_every=50"]
SWEEP = ["--sweep", "seed=0,1"]
LOCK_PAGES = 1  # a run folder's .lock, a line of JSON, held (and counted) until the run's files are written
EVENT_PAGES = 1  # each of the two event files, as it is made
# TensorFlow's AutoGraph writes each function it converts to a temporary file, the largest of Tiny's
# this many bytes (TensorFlow 2.21): below it, a file size limit stops TensorFlow before a run trains.
AUTOGRAPH_BYTES = 3_893
# What a write cut short leaves (test_what_survives.DEBRIS), and a crash's core file.
DEBRIS = re.compile(rf"{test_what_survives.DEBRIS.pattern}|core(\.\d+)?")
CRASH_MARKS = ("Traceback", "Exception ignored", "Segmentation fault", "Fatal Python error", "core dumped")
# What a run writes as it ends, in this order: the test rows' files are there because the data has test rows.
END_FILES = ("history.csv", "best.weights.h5", "final.weights.h5", "test.json", "reliability.png", "curves.png")
ROWS = 600  # Tiny's 100 validation and 400 training rows, and 100 test rows past them
SYNTHETIC_TEST = ["--set", "n_test=100"]  # not the synthetic source's 50,000: a cache of a few pages
# The list, and the HParams session a run writes last, into an event file of the run folder.
KINDS = ("checkpoint", "summaries", *END_FILES, "hparams", "config.json", "sweep.json", "cache", "profile")


@dataclass
class Case:
    """One fault: what goes wrong, where, to which command, and the exit codes the table gives it."""

    fault: str  # "disk full", "read-only", "file too large", or "none"
    setting: str  # "12 pages free", "before the run", "checkpoints/ mid-run", "limit 11,126 bytes"
    # "run": one fresh run of rows.csv.gz; "resume": --resume of that run finished; "sweep": over two
    # seeds; "synthetic": on --data synthetic, whose cache is on the disk; "profile": a fresh run with
    # --profile 1, whose trace goes to the run folder.
    command: str = "run"
    free_pages: int | None = None  # disk full: the pages free as the command starts
    file_size_limit: int | None = None  # file too large: RLIMIT_FSIZE, in bytes
    logdir_on_disk: bool = True  # "synthetic": whether the run folder shares the disk with the cache
    expected: tuple = (5,)
    aim: str | None = None  # the kind of file the case means to be refused first
    known: str | None = None  # why its problems, known, are not looptrain's to mend

    def __str__(self) -> str:
        where = "" if self.logdir_on_disk else ", run folder elsewhere"
        return f"{self.fault}, {self.setting}: {self.command}{where}"


@dataclass
class Outcome:
    case: Case
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    failed: str | None  # the kind of file refused first: the one the line (or a warning, or a crash) names
    refused: set  # every kind refused: the first, and the run's last files it then could not write either
    problems: list = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.case}: exit {self.returncode}, {self.failed or 'nothing'} refused"


# The disk.

def mount_refused(folder: Path) -> str | None:
    """None if a tmpfs can be mounted here; else why not (not root, a container without CAP_SYS_ADMIN)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        return f"cannot mount a tmpfs to fill up ({mounted.stderr.strip() or 'mount failed'}); needs root"
    unmount(folder)
    return None


def mount(folder: Path, pages: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={pages * PAGE}", "tmpfs", str(folder)], check=True,
                   capture_output=True)


def remount(folder: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True, capture_output=True)


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], check=True, capture_output=True)


def used_pages(disk: Path) -> int:
    space = os.statvfs(disk)
    return (space.f_blocks - space.f_bfree) * space.f_frsize // PAGE


# Where a case runs.

@dataclass
class Places:
    folder: Path  # the case's own folder, where the command runs
    disk: Path  # the faulty disk; a plain folder for a file size limit
    data: Path  # rows.csv.gz, the user's
    logdir: Path
    cache: Path  # $XDG_CACHE_HOME of the synthetic cases: the cache is its looptrain/ folder

    @property
    def experiment_folder(self) -> Path:
        return self.logdir / "tiny"

    def notes(self) -> list[Path]:
        """The user's own files: beside the logdir, inside it, and beside the cache."""
        return [self.disk / "notes.txt", self.logdir / "notes.txt", self.cache / "notes.txt"]


def places(case: Case, folder: Path) -> Places:
    disk = folder / "disk"
    return Places(folder=folder, disk=disk, data=folder / "rows.csv.gz",
                  logdir=disk / "runs" if case.logdir_on_disk else folder / "runs", cache=disk / "cache")


def lay_out(case: Case, place: Places, data: Path | None, finished: Path | None) -> tuple[dict, dict]:
    """Put the user's files in place (and, to resume, the finished run); return what the user's files
    hold, and what the run folder held before."""
    import matplotlib

    if data is not None:
        shutil.copy(data, place.data)
    for path in place.notes():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"the user's own notes, in {path.parent.name}/\n")
    # matplotlib's cache, the user's too: it is found as it was, so matplotlib does not build one there.
    shutil.copytree(matplotlib.get_cachedir(), place.cache / "matplotlib")
    if case.command == "resume":  # a run stopped after its last epoch: it has not scored the test rows yet
        shutil.copytree(finished, place.experiment_folder,
                        ignore=shutil.ignore_patterns("test.json", "reliability.png"))
    earlier = {path: path.read_bytes() for path in place.experiment_folder.rglob("*") if path.is_file()}
    return snapshot([place.data, *place.notes(), *sorted((place.cache / "matplotlib").iterdir())]), earlier


def snapshot(paths: list[Path]) -> dict:
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None for path in paths}


def command(case: Case, place: Places) -> list[str]:
    data = ["--data", "synthetic", *SYNTHETIC_TEST] if case.command == "synthetic" else ["--data", str(place.data)]
    extra = {"resume": ["--resume"], "sweep": SWEEP, "profile": ["--profile", "1"]}.get(case.command, [])
    endless = ENDLESS if case.setting.startswith("checkpoints/") else []
    return [sys.executable, "-m", "looptrain.run", str(TINY), *data, *SHRUNK, *endless, *extra,
            "--logdir", str(place.logdir)]


def environment(case: Case, place: Places) -> dict:
    """The synthetic cases' cache is $XDG_CACHE_HOME/looptrain, on the disk."""
    if case.command != "synthetic":
        return dict(os.environ)
    environ = {name: value for name, value in os.environ.items() if name != "LOOPTRAIN_CACHE"}
    return {**environ, "XDG_CACHE_HOME": str(place.cache)}


# One case.

def run_case(case: Case, folder: Path, data: Path, finished: Path | None = None, measure=None) -> Outcome:
    """Lay out the case's disk and the user's files, set the fault, run the command to its end, and
    check what it left; `measure(place)`, if given, looks at the disk before it goes."""
    folder.mkdir(parents=True)
    place = places(case, folder)
    mounts = []
    try:
        if case.fault == "file too large":
            place.disk.mkdir()
        else:
            mount(place.disk, 4096)  # 16 MB: room for the user's files; the fault is set below
            mounts.append(place.disk)
        users, earlier = lay_out(case, place, data, finished)
        if case.fault == "disk full":
            # Exactly `free_pages` free. (A tmpfs of size=0 would have no limit; the user's files take some.)
            remount(place.disk, f"size={(used_pages(place.disk) + case.free_pages) * PAGE}")
        if case.fault == "read-only" and case.setting == "before the run":
            remount(place.disk, "ro")
        started = time.monotonic()
        finished_process = execute(case, place, mounts)
        outcome = Outcome(case, finished_process.returncode, finished_process.stdout, finished_process.stderr,
                          time.monotonic() - started, *refusals(finished_process))
        outcome.problems = check(outcome, place, users, earlier)
        if measure is not None:
            measure(place)
        return outcome
    finally:
        for mounted in reversed(mounts):
            unmount(mounted)


def execute(case: Case, place: Places, mounts: list) -> subprocess.CompletedProcess:
    """Run the case's command in its folder; a fault set mid-run is set once the run has saved its
    first checkpoint."""
    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (case.file_size_limit, case.file_size_limit))

    process = subprocess.Popen(command(case, place), cwd=place.folder, env=environment(case, place),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=limit_file_size if case.file_size_limit is not None else None)
    try:
        if case.setting.startswith("checkpoints/"):
            # The kernel refuses to make a filesystem read-only while a file on it is open for writing,
            # and a run always holds its .lock and its event files open. Its checkpoints folder holds
            # none between two checkpoints: a bind mount of that folder can be made read-only mid-run.
            checkpoints = place.experiment_folder / "checkpoints"
            deadline = time.monotonic() + 120
            while not (checkpoints / "checkpoint").exists() and process.poll() is None:
                assert time.monotonic() < deadline, "the run never saved a checkpoint"
                time.sleep(0.02)
            subprocess.run(["mount", "--bind", str(checkpoints), str(checkpoints)], check=True, capture_output=True)
            mounts.append(checkpoints)
            remount(checkpoints, "bind,ro")
        stdout, stderr = process.communicate(timeout=300)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


# What the command said.

def error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    return lines[0] if len(lines) == 1 else ""


KEPT = re.compile(r"the run stopped after epoch (-?\d+); (?:kept in (.+?): (.+?)|nothing of it could be kept in "
                  r"(.+?)); ")


def refusals(finished) -> tuple[str | None, set]:
    """The kind of file refused first, from the one line, else the cache's warning, else a crash's own
    words (h5py names the file it was writing); and every kind refused: with the first, the run's last
    files that the line does not name as kept, since a run tries each of them."""
    line = error_line(finished.stderr)
    said = re.search(r"cannot write (the (TensorBoard|HParams) events in )?(.+?): ", line)
    warned = re.search(r"warning: cannot write (\S+): ", finished.stdout)
    crashed = re.search(r"filename = '([^']+)'", finished.stderr)
    events = {"TensorBoard": "summaries", "HParams": "hparams", None: None}
    first = (events[said.group(2)] or kind(said.group(3))) if said else \
        kind(warned.group(1)) if warned else kind(crashed.group(1)) if crashed else None
    refused = {first} - {None}
    if warned:
        refused.add("cache")
    if kept := KEPT.search(line):
        refused |= set(END_FILES) - set((kept.group(3) or "").split(", "))
    return first, refused


def kind(path: str) -> str:
    if path.startswith("the profile in "):
        return "profile"
    name = Path(path).name.removeprefix("partial.")
    if re.fullmatch(r"ckpt-\d+", name):
        return "checkpoint"
    if name.startswith("higgs-synthetic-"):
        return "cache"
    if name in (*END_FILES, "config.json", "sweep.json", "comparison.png", ".lock"):
        return name
    return "run folder"  # the folder itself, made or cleared


# The checker.

def check(outcome: Outcome, place: Places, users: dict, earlier: dict | None = None) -> list[str]:
    """Everything wrong with how a case ended: its exit code, its stderr, a crash, debris, the user's
    files, and the files kept. `earlier`: what the run folder held before, {path: bytes}."""
    problems = []
    code, case = outcome.returncode, outcome.case
    if code < 0:
        problems.append(f"killed by {signal.Signals(-code).name}: a crash")
    elif code == 128 + signal.SIGSEGV:
        problems.append("exit code 139: a segmentation fault")
    elif code not in case.expected:
        problems.append(f"exit code {code}, where the table says {' or '.join(map(str, case.expected))}")
    problems += [f"{mark!r} in its output" for mark in CRASH_MARKS if mark in outcome.stdout + outcome.stderr]
    lines = outcome.stderr.splitlines()
    if code == 0 and lines:
        problems.append(f"exit code 0, yet stderr says: {lines[0][:200]}")
    if code != 0 and (len(lines) != 1 or not lines[0].startswith("looptrain: error: ")):
        problems.append(f"{len(lines)} lines on stderr, not one 'looptrain: error:' line: "
                        f"{' | '.join(lines[:3])[:300]}")
    for path in sorted(place.folder.rglob("*")):
        if DEBRIS.fullmatch(path.name):
            problems.append(f"{path.relative_to(place.folder)} left behind")
        elif path.name == ".lock" and case.fault != "read-only":  # where it cannot be removed, it is taken over
            problems.append(f"{path.relative_to(place.folder)} left behind, its process ended")
    problems += [f"the user's {path.relative_to(place.folder)} was changed" for path, before in users.items()
                 if snapshot([path])[path] != before]
    if outcome.failed == "profile":  # a trace cut short would pass for one in TensorBoard
        problems += [f"{path.relative_to(place.folder)} left behind, its write refused"
                     for path in place.folder.rglob("*.xplane.pb")]
    return problems + check_kept(outcome, place, earlier or {})


def check_kept(outcome: Outcome, place: Places, earlier: dict) -> list[str]:
    """Every run folder's files read back whole, and the run the line is about holds what it says."""
    problems = []
    said = KEPT.search(error_line(outcome.stderr))
    about = Path(said.group(2) or said.group(4)) if said else None
    for folder in run_folders(place):
        if about is not None and place.folder.joinpath(folder).resolve() == place.folder.joinpath(about).resolve():
            kept = said.group(3).split(", ") if said.group(3) else []
            problems += check_run_folder(folder, kept, int(said.group(1)) + 1, earlier)
        else:  # a run that ended (a sweep's earlier point, a run of exit code 0), or one that never trained
            # A refused command may not have reached the run at all: --resume of a run stopped after
            # its last epoch, refused at its lock, leaves that run as it was, without test rows' files.
            history = folder / "history.csv"
            untouched = outcome.returncode != 0 and history.exists() and earlier.get(history) == history.read_bytes()
            problems += check_run_folder(folder, None, None, ended=not untouched)
    record = place.experiment_folder / "sweep.json"
    if record.exists():
        try:
            done = json.loads(record.read_text())["done"]
        except (ValueError, KeyError) as error:
            problems.append(f"sweep.json does not read back: {error}")
        else:
            problems += [f"sweep.json says seed={value} is done, its folder does not hold the run's files"
                         for value in done if not all((place.experiment_folder / f"seed={value}" / name).exists()
                                                      for name in END_FILES)]
    comparison = place.logdir / "comparison.png"
    if comparison.exists() and not is_png(comparison):
        problems.append("comparison.png is not a whole PNG")
    if outcome.case.command == "synthetic":
        problems += check_cache(place.cache / "looptrain")
    return problems


def run_folders(place: Places) -> list[Path]:
    folder = place.experiment_folder
    if not folder.is_dir():
        return []
    points = sorted(path for path in folder.iterdir() if path.is_dir() and "=" in path.name)
    return points or [folder]


def check_run_folder(folder: Path, kept: list | None, epochs: int | None, earlier: dict | None = None,
                     ended: bool = True) -> list[str]:
    """Each file of a run folder reads back whole. `kept`: what the line says was kept, and `epochs`:
    how many epochs it says the run had; both None where no line is about the folder, where a run with
    a history must hold all its files, unless not `ended` (a refused command never reached it). A last
    file the line does not name may be there only as it was before the command (`earlier`): a resumed
    run that could not write it again leaves the old one."""
    from looptrain.runfolder.checkpoint import unreadable
    from looptrain.runfolder.history import read_history, read_weights

    problems, name = [], folder.name
    checkpoint = latest_checkpoint(folder / "checkpoints")
    if kept is not None:
        named = next((item.removeprefix("checkpoint ") for item in kept if item.startswith("checkpoint ")), None)
        if named != checkpoint:
            problems.append(f"{name}: the line names checkpoint {named}, the folder's latest is {checkpoint}")
        for file_name in END_FILES:
            path = folder / file_name
            if file_name not in kept and path.exists() and (earlier or {}).get(path) == path.read_bytes():
                continue
            if (file_name in kept) != path.exists():
                problems.append(f"{name}: {file_name} is {'' if (folder / file_name).exists() else 'not '}there, "
                                f"the line {'names it' if file_name in kept else 'does not name it'}")
    elif ended and (folder / "history.csv").exists():
        problems += [f"{name}: a run that ended has no {file_name}" for file_name in END_FILES
                     if not (folder / file_name).exists()]
    if checkpoint is not None and (why := unreadable(str(folder / "checkpoints" / checkpoint))):
        problems.append(f"{name}: checkpoint {checkpoint} does not read whole: {why}")
    readers = {"history.csv": read_history, "best.weights.h5": read_weights, "final.weights.h5": read_weights,
               "test.json": lambda path: json.loads(path.read_text())["best"]["binary_crossentropy"],
               "config.json": lambda path: json.loads(path.read_text())["fields"]}
    for file_name, read in readers.items():
        if (folder / file_name).exists():
            try:
                read(folder / file_name)
            except Exception as error:
                problems.append(f"{name}: {file_name} does not read back: {error}")
    if epochs is not None and (folder / "history.csv").exists():
        read = read_history(folder / "history.csv")["epoch"]
        if read != list(range(epochs)):
            problems.append(f"{name}: history.csv holds {len(read)} epochs, the line says {epochs}")
    problems += [f"{name}: {picture} is not a whole PNG" for picture in ("reliability.png", "curves.png")
                 if (folder / picture).exists() and not is_png(folder / picture)]
    for events in sorted([*folder.glob("events.out.tfevents.*"), *folder.glob("*/events.out.tfevents.*")]):
        if (why := events_unreadable(events)) is not None:
            problems.append(f"{name}: {events.relative_to(folder)} does not read whole: {why}")
    return problems


def latest_checkpoint(folder: Path) -> str | None:
    """The checkpoint a resumed run starts from, as TensorFlow's list names it."""
    import tensorflow as tf

    path = tf.train.latest_checkpoint(str(folder)) if folder.is_dir() else None
    return Path(path).name if path else None


def events_unreadable(path: Path) -> str | None:
    """None if every record of an event file reads with its checksums, as TensorBoard reads them."""
    import tensorflow as tf

    try:
        for _ in tf.data.TFRecordDataset(str(path)):
            pass
    except tf.errors.OpError as error:
        return error.message.splitlines()[0]
    return None


def is_png(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            return image.format == "PNG"
    except Exception:
        return False


def check_cache(folder: Path) -> list[str]:
    """A synthetic file in the cache has its sidecar, and the SHA-256 that names."""
    from looptrain.data.cache import sha256

    problems = []
    for path in sorted(folder.glob("higgs-synthetic-*.csv.gz")) if folder.is_dir() else []:
        sidecar = path.with_name(path.name + ".sha256")
        if not sidecar.is_file() or sidecar.read_text().strip() != sha256(path):
            problems.append(f"the cache's {path.name} does not match its sidecar")
    return problems


# Where to step: worked out from a run on an ample disk.

@dataclass
class Measured:
    """A finished run's files, in pages and bytes, by their path in the run folder."""

    pages: dict
    sizes: dict

    @property
    def total(self) -> int:
        return sum(self.pages.values())

    def of(self, pattern: str, sizes: bool = False) -> int:
        [value] = [value for path, value in (self.sizes if sizes else self.pages).items()
                   if re.fullmatch(pattern, path)]
        return value


def measure_into(record: dict, keep: Path | None = None):
    """A `measure` for `run_case`: the experiment folder's files in pages and bytes, and the cache's
    and the comparison picture's sizes, into `record`; a copy of the folder to `keep`."""
    def measure(place: Places) -> None:
        files = [path for path in place.experiment_folder.rglob("*") if path.is_file()]
        record["pages"] = {str(path.relative_to(place.experiment_folder)): path.stat().st_blocks * 512 // PAGE
                           for path in files}
        record["sizes"] = {str(path.relative_to(place.experiment_folder)): path.stat().st_size for path in files}
        for extra in [*(place.cache / "looptrain").glob("higgs-*"), place.logdir / "comparison.png"]:
            if extra.exists():
                record["pages"][extra.name] = extra.stat().st_blocks * 512 // PAGE
                record["sizes"][extra.name] = extra.stat().st_size
        if keep is not None:
            shutil.copytree(place.experiment_folder, keep)
    return measure


def fresh_levels(measured: Measured) -> dict:
    """The free pages at which a fresh run's first refused write is each kind of file, mid-write where
    it spans pages, from the order a run writes in: its lock, config.json, the two event files, then
    each epoch's checkpoint (its data, its index, and the list of checkpoints, written twice, beside
    the old one), and as it ends the END_FILES in their order and the HParams session's event file,
    the lock still held.

    history.csv is missing: it is one page, and just before it the last checkpoint's list needed one
    page beside the old list, so a disk with no room for the history refused that list first. It is
    refused first on `--resume` (`resume_levels`), and after a refused checkpoint here."""
    first = measured.of(r"checkpoints/ckpt-1\.data-.*") + measured.of(r"checkpoints/ckpt-1\.index") + \
        measured.of("checkpoints/checkpoint")
    peak = measured.total + LOCK_PAGES
    levels = {
        ".lock": 0,
        "config.json": LOCK_PAGES,
        "summaries": LOCK_PAGES + measured.of("config.json"),  # the train/ event file, as it is made
        # TensorFlow writes its list of checkpoints twice, before and after it deletes the oldest: here
        # the first save's second write, beside the new list, is refused. The first write's list once
        # stayed, naming the checkpoint just removed (and TensorFlow said so on stderr).
        "checkpoint": LOCK_PAGES + measured.of("config.json") + 2 * EVENT_PAGES + first,
        "hparams": peak - EVENT_PAGES,  # the last file of all
    }
    after = EVENT_PAGES  # what is written after the file: the later end files and the HParams session
    for name in reversed(END_FILES[1:]):
        pages = measured.of(re.escape(name))
        after += pages
        levels[name] = peak - after + max(pages // 2 - 1, 0)  # at its middle page, or its only one
    return levels


def resume_levels(measured: Measured) -> dict:
    """`--resume` of a run stopped after its last epoch (the finished run without its test rows' files):
    no epoch to train and no checkpoint to save, so after its lock, config.json (written beside the
    old one, then in its place) and two new event files, it writes its end files again, each beside
    the old one, but the test rows' two, which it writes anew."""
    levels, used = {}, LOCK_PAGES + 2 * EVENT_PAGES
    for name in END_FILES:
        pages = measured.of(re.escape(name))
        levels[name] = used + max(pages // 2 - 1, 0)
        used += pages if name in ("test.json", "reliability.png") else 0
    return levels


def suite_cases(measured: Measured) -> list[Case]:
    """One case for each kind of file, and one for each other fault: what the suite runs."""
    second = measured.of(r"checkpoints/ckpt-2\.data-.*", sizes=True)
    profile_free = fresh_levels(measured)["checkpoint"] + 10
    return [
        *[Case("disk full", f"{free} pages free", free_pages=free, aim=aim)
          for aim, free in fresh_levels(measured).items()],
        Case("disk full", f"{resume_levels(measured)['history.csv']} pages free", "resume",
             free_pages=resume_levels(measured)["history.csv"], aim="history.csv"),
        # The sweep's lock takes the first page, and its sweep.json is refused the second, before a point trains.
        Case("disk full", f"{LOCK_PAGES} page free", "sweep", free_pages=LOCK_PAGES, aim="sweep.json"),
        # `--profile 1`: the trace of epoch 1 (some 20 pages) refused about halfway, after the first checkpoint.
        Case("disk full", f"{profile_free} pages free", "profile", free_pages=profile_free, aim="profile"),
        # The cache's rows at their second page, the run folder elsewhere: the run goes on, in memory.
        Case("disk full", "1 page free", "synthetic", free_pages=1, logdir_on_disk=False, expected=(0,), aim="cache"),
        Case("read-only", "checkpoints/ mid-run", aim="checkpoint"),
        # The second checkpoint's data is the first file larger than the limit.
        Case("file too large", f"limit {second - 1:,} bytes", file_size_limit=second - 1, aim="checkpoint"),
    ]


def report(outcomes: list[Outcome]) -> str:
    return "\n".join(f"{outcome}:\n    " + "\n    ".join(outcome.problems) for outcome in outcomes if outcome.problems)


class Campaign:
    """Cases run one after another, each in a folder of its own below `folder`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = write_rows(folder / "rows.csv.gz", made_up_rows(ROWS))
        self.finished = folder / "finished"  # the ample run's folder, for --resume to start from
        self.outcomes = []

    def run(self, case: Case, measure=None) -> Outcome:
        outcome = run_case(case, self.folder / f"case-{len(self.outcomes)}", self.data, self.finished, measure)
        self.outcomes.append(outcome)
        return outcome

    def measure(self, command: str = "run", logdir_on_disk: bool = True) -> Measured:
        """The command on an ample disk: a case of its own, which must end well."""
        record = {}
        keep = self.finished if command == "run" else None
        self.run(Case("none", "an ample disk", command, logdir_on_disk=logdir_on_disk, expected=(0,)),
                 measure_into(record, keep))
        return Measured(record["pages"], record["sizes"])

    def reach(self, case: Case, tries: int = 3) -> Outcome:
        """Run a disk-full case; should it refuse another kind of file than it aims at, try the pages
        either side, nearest first."""
        outcome = self.run(case)
        for step in [1, -1, 2, -2, 3, -3][:2 * tries]:
            if outcome.failed == case.aim or case.free_pages + step < 0:
                break
            free = case.free_pages + step
            outcome = self.run(Case(case.fault, f"{free} pages free", case.command, free_pages=free,
                                    logdir_on_disk=case.logdir_on_disk, expected=case.expected, aim=case.aim))
        return outcome


# The tests.

def test_a_write_refused_at_any_kind_of_file_ends_as_the_table_says(tmp_path):
    # One test, not several sharing a fixture: pytest-xdist would run the campaign once per worker.
    if reason := mount_refused(tmp_path / "probe"):
        pytest.skip(reason)
    campaign = Campaign(tmp_path)
    for case in suite_cases(campaign.measure()):
        campaign.reach(case) if case.fault == "disk full" else campaign.run(case)
    outcomes = campaign.outcomes

    # Each case refuses the kind of file it aims at, at the free space worked out for it or a page
    # either side; together they refuse every kind first at least once.
    aims = {outcome.case.aim for outcome in outcomes} - {None}
    missed = aims - {outcome.failed for outcome in outcomes if outcome.failed == outcome.case.aim}
    unrefused = set(KINDS) - {outcome.failed for outcome in outcomes}
    assert not any(outcome.problems for outcome in outcomes) and not missed and not unrefused, "\n".join([
        report(outcomes), *(f"no case refused {kind} first" for kind in sorted(missed | unrefused)),
        "the cases:", *map(str, outcomes)])


# What the campaign would have seen before runfolder/weights_file.py: h5py writing best.weights.h5
# straight to a disk that fills under it.
WEIGHTS_WRITER = """
import sys
from pathlib import Path

from looptrain.launch.quiet import import_tensorflow_quietly

import_tensorflow_quietly()  # as the command does, so that stderr holds only what the write says

from looptrain.errors import WriteFailed
from looptrain.models.mlp import mlp
from looptrain.runfolder.files import write_whole
from looptrain.runfolder.weights_file import write_weights

model = mlp([16])  # Tiny
path = Path(sys.argv[2]) / "best.weights.h5"
try:
    if sys.argv[1] == "h5py":
        write_whole(path, model.save_weights)  # as train.py wrote it before
    else:
        write_weights(path, model)
except WriteFailed as failure:
    print(f"looptrain: error: {failure}", file=sys.stderr)
    sys.exit(5)
"""


def write_weights_on_a_full_disk(folder: Path, writer: str, free_pages: int) -> Outcome:
    """WEIGHTS_WRITER with `free_pages` left on the disk, through the campaign's checker."""
    case = Case("disk full", f"{free_pages} pages free", f"weights by {writer}", free_pages=free_pages)
    place = places(case, folder)
    mount(place.disk, 4096)
    try:
        users, earlier = lay_out(case, place, None, None)
        remount(place.disk, f"size={(used_pages(place.disk) + free_pages) * PAGE}")
        finished = subprocess.run([sys.executable, "-c", WEIGHTS_WRITER, writer, str(place.logdir)], cwd=folder,
                                  capture_output=True, text=True, timeout=300)
        outcome = Outcome(case, finished.returncode, finished.stdout, finished.stderr, 0, *refusals(finished))
        outcome.problems = check(outcome, place, users, earlier)
        return outcome
    finally:
        unmount(place.disk)


def test_the_campaign_would_catch_h5py_crashing_on_a_full_disk(tmp_path):
    if reason := mount_refused(tmp_path / "probe"):
        pytest.skip(reason)
    from looptrain.models.mlp import mlp
    from looptrain.runfolder.weights_file import weights_bytes

    # The room the campaign's weights case leaves: the file is refused at its page `pages // 2`.
    pages = -(-len(weights_bytes(mlp([16]))) // PAGE)
    free = pages // 2 - 1
    old = write_weights_on_a_full_disk(tmp_path / "h5py", "h5py", free)
    # h5py's destructors print tracebacks ("Exception ignored in: h5py._objects.ObjectID.__dealloc__")
    # and the process dies of a segmentation fault, its partial file left behind.
    assert "'Traceback' in its output" in old.problems, old.problems
    assert any(problem.startswith(("killed by", "exit code")) for problem in old.problems), old.problems
    assert old.failed == "best.weights.h5"

    new = write_weights_on_a_full_disk(tmp_path / "memory", "memory", free)
    assert new.problems == [] and new.returncode == 5, new.problems
    assert new.stderr == f"looptrain: error: cannot write {tmp_path}/memory/disk/runs/best.weights.h5: " \
                         f"No space left on device\n"
