"""The kill campaign: a run, or a sweep, killed outright at many random moments and carried on with
`--resume` each time, must end with the history and the weights of the one that never stopped.

    python benchmarks/kill_campaign.py --kills 30 --seed 0 --out /tmp/kill-campaign
    python benchmarks/kill_campaign.py --sweep seed=0,1,2 --kills 10 --seed 0 --out /tmp/kill-campaign-sweep
    python benchmarks/kill_campaign.py --kills 30 --loop step --experiment experiments/dropout.py

Shrunk Tiny (or `--experiment`) on 600 made-up rows, 400 of them training in batches of 100 and the
last 100 test rows, for
`--epochs` epochs with a checkpoint after every one and early stopping out of the way, so that a
resumed run must carry the very sequence on: the weights, Adam, the shuffling and dropout's random
state. First the command runs once, never stopped: the reference. Then trial after trial:
- the same command, into a fresh folder, is sent SIGKILL at a random moment of one of three
  stretches, drawn with equal chances: its start-up (up to its first checkpoint), its epochs and
  checkpoints, its final writes (`history.csv`, the best and final weights, the test rows' `test.json`,
  the pictures) and a little of its
  exit. A sweep's moment is drawn half the time from its whole remaining length, which lands it
  mostly between points or in a point's start-up, and half the time from a point's epochs or final
  writes;
- the command is given again with `--resume`, as the user would, and killed again at a fresh random
  moment half the time, until one attempt is let finish. A kill that lands before the first
  checkpoint leaves nothing to resume: `--resume` must refuse it (exit 2, "nothing to resume"), and
  the command is then given again without `--resume`, again as the user would;
- the trial's folder is compared with the reference's: `history.csv` row for row and digit for digit
  (all but its `seconds`, which is wall time), every array of `best.weights.h5` and
  `final.weights.h5` bit for bit, `test.json`, `config.json` (and a sweep's `sweep.json`) byte for byte, and the same files, nothing more: no
  `partial.*` file, no checkpoint's temporary file or folder, no lock, no checkpoint beyond the kept
  three. TensorBoard's event files are left out of the listing: each process writes its own.
How long each stretch takes is watched in the folder (every 5 ms) in the reference and in every
attempt since, and a moment is drawn from the median of the latest five: a machine shared with other
work changes speed, and moments calibrated once would land ever later or ever earlier than meant.
Each kill is told by where it landed, read from the folder right after it: before the first
checkpoint, in a resumed command's start-up, between checkpoints or inside a checkpoint's write, in
the final writes, or after the last of them; in a sweep, between points or inside one. The moments
are seeded (`--seed`); where each lands depends on the machine's speed at the time. Nothing here is a
test; `tests/runfolder/test_kill_campaign.py` runs a few kills of it, and the numbers of a full
campaign go to docs/resume-and-errors.md. Exits 1 if any trial did not end exactly.
"""

import csv
import fcntl
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from looptrain.errors import ArgumentParser
from looptrain.runfolder.history import read_weights
from looptrain.runfolder.sweep import Sweep, parse_sweep

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import made_up_rows, write_rows  # noqa: E402  the tests' own made-up rows

REPO = Path(__file__).resolve().parents[1]
# A checkpoint after every epoch, so that a resumed run must reproduce every epoch after it; early
# stopping never ends the run, so that every attempt has the same number of epochs to reach.
SHRUNK = ["n_validation=100", "n_train=400", "batch_size=100", "checkpoint_every=1", "patience=1000000"]
# 100 more rows than the run trains and validates on: the test rows, so that a run's end scores them.
ROWS = 600
# What a run writes at its end, in that order.
OUTPUTS = ["history.csv", "best.weights.h5", "final.weights.h5", "test.json", "reliability.png", "curves.png"]
POLL = 0.005  # seconds between two looks at the folder
AGAIN = 0.5  # the chance that a resumed attempt is killed again, rather than let finish
LATEST = 5  # a stretch's length is the median of the latest this many seen
# Where a kill of one run can land, in the order the run passes them.
BEFORE_FIRST_CHECKPOINT = "before the first checkpoint (--resume refused, started again)"
RUN_KINDS = [
    BEFORE_FIRST_CHECKPOINT,
    "resumed, in its start-up (before it took its folder)",
    "resumed, before its first new checkpoint",
    "between checkpoints",
    "inside a checkpoint's write",
    "in the final writes",
    "after its last file, exiting",
]
BEFORE_RECORD = "before sweep.json (--resume refused, started again)"  # a sweep's first moments
# What --resume says when it has nothing to start from: no checkpoint at all, or none that reads whole
# (the only one cut short while TensorFlow wrote its index).
REFUSALS = ("nothing to resume", "start afresh without --resume")


@dataclass(frozen=True)
class Setup:
    """What the campaign runs: one experiment, shrunk, as a single run or a sweep."""

    experiment: Path
    data: Path  # a HIGGS-layout file of made-up rows
    epochs: int
    loop: str = "epoch"
    sweep: Sweep | None = None
    fields: tuple = ()  # more FIELD=VALUE for --set

    def command(self, logdir: Path, resume: bool) -> list[str]:
        fields = [word for assignment in [*SHRUNK, f"loop={self.loop}", *self.fields] for word in ("--set", assignment)]
        sweep = ["--sweep", str(self.sweep)] if self.sweep else []
        return [sys.executable, "-m", "looptrain.run", str(self.experiment), "--data", str(self.data),
                "--logdir", str(logdir), "--max-epochs", str(self.epochs), *fields, *sweep, "--dots",
                *(["--resume"] if resume else [])]

    def folder(self, logdir: Path) -> Path:
        """The run folder, or the sweep's folder."""
        return logdir / self.experiment.stem

    def run_folders(self, logdir: Path) -> list[Path]:
        if self.sweep is None:
            return [self.folder(logdir)]
        return [self.folder(logdir) / self.sweep.label(value) for value in self.sweep.values]


@dataclass
class Result:
    kills: int = 0
    trials: int = 0
    exact: int = 0  # trials that ended exactly as the reference
    landed: Counter = field(default_factory=Counter)  # where the kills landed
    outran: int = 0  # attempts that finished before the moment drawn for their kill
    processes: int = 0  # commands started, the reference's among them
    fallbacks: int = 0  # resumes that passed over a checkpoint that did not read whole
    unreadable_refusals: int = 0  # resumes refused because no checkpoint there read whole
    failures: list = field(default_factory=list)
    reference_seconds: float = 0.0
    seconds: float = 0.0


class Failed(Exception):
    """An attempt that ended as no attempt should: a traceback, an unexpected exit code."""


class Calibration:
    """How long each stretch of an attempt takes: the median of the latest LATEST seen."""

    def __init__(self):
        self.seen = {}

    def note(self, stretch: str, seconds: float) -> None:
        if seconds > 0:
            self.seen.setdefault(stretch, []).append(seconds)

    def __getitem__(self, stretch: str) -> float:
        return statistics.median(self.seen[stretch][-LATEST:])

    def learn(self, setup: Setup, watcher: "Watcher") -> None:
        """Note the stretches an attempt went through whole."""
        events = watcher.events
        for prefix, first_number in watcher.first_numbers.items():
            first, last = events.get(prefix + "first_checkpoint"), events.get(prefix + "last_checkpoint")
            if first is not None and last is not None and first_number < setup.epochs:
                self.note("epoch", (last - first) / (setup.epochs - first_number))
        for prefix in watcher.prefixes:
            if prefix + "last_checkpoint" in events and prefix + "last_file" in events:
                self.note("final", events[prefix + "last_file"] - events[prefix + "last_checkpoint"])
        if setup.sweep is None and "first_checkpoint" in events:
            self.note("start-up", events["first_checkpoint"])
        if setup.sweep is not None and "record" in events:
            self.note("record", events["record"])
            ends = sorted([events["record"]] + [at for name, at in events.items() if name.endswith("last_file")])
            for start, end in zip(ends, ends[1:]):
                self.note("point", end - start)


class Watcher:
    """The moments of one attempt, seen in its folder: when each run took its folder, saved its first
    checkpoint of its own and its last, wrote its last file; and a sweep's sweep.json. `events` holds
    the seconds from the attempt's start to each, named with the run's prefix: "" for a single run,
    "point 1 " for a sweep's second point."""

    def __init__(self, setup: Setup, logdir: Path, begun_ns: int, before: dict):
        self.begun_ns, self.events = begun_ns, {}
        self.first_numbers = {}  # {prefix: the number of the run's first checkpoint of its own}
        self.prefixes = [""] if setup.sweep is None else [f"point {index} " for index in range(len(setup.sweep.values))]
        self.conditions = {}
        if setup.sweep is not None:
            self.conditions["record"] = lambda: written_since(setup.folder(logdir) / "sweep.json", begun_ns)
        for prefix, folder, latest_before in zip(self.prefixes, setup.run_folders(logdir), before["latest"]):
            self.conditions.update(self.run_conditions(prefix, folder, latest_before, setup.epochs))

    def run_conditions(self, prefix: str, folder: Path, latest_before: int, epochs: int) -> dict:
        checkpoints = folder / "checkpoints"

        def first_checkpoint():
            newest = latest_checkpoint(checkpoints)
            if newest > latest_before:
                self.first_numbers[prefix] = newest
            return newest > latest_before

        return {
            prefix + "took_folder": lambda: written_since(folder / "config.json", self.begun_ns),
            prefix + "first_checkpoint": first_checkpoint,
            # Resumed from its last checkpoint, a run is at this moment as soon as it holds its folder.
            prefix + "last_checkpoint": lambda: (prefix + "took_folder" in self.events
                                                 and latest_checkpoint(checkpoints) >= epochs),
            prefix + "last_file": lambda: written_since(folder / OUTPUTS[-1], self.begun_ns),
        }

    def look(self, now: float) -> None:
        for name, happened in self.conditions.items():
            if name not in self.events and happened():
                self.events[name] = now


def campaign(setup: Setup, kills: int, seed: int, out: Path, report=print, again: float = AGAIN) -> Result:
    """The reference, then trials until at least `kills` kills have landed; see the module's docstring.
    `again`: the chance that a resumed attempt is killed again (1: every attempt is, until `kills`)."""
    rng = random.Random(seed)
    result, calibration = Result(), Calibration()
    started = time.monotonic()
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    reference = out / "reference"
    shutil.rmtree(reference, ignore_errors=True)
    watcher, returncode, stderr = attempt(setup, reference, False, None, logs / "reference.stderr", result)
    if returncode != 0:
        raise SystemExit(f"the reference run failed (exit {returncode}): {stderr[-2000:]}")
    calibration.learn(setup, watcher)
    result.reference_seconds = watcher.events["end"]
    report(f"reference: {watcher.events['end']:.1f} s; its stretches: "
           + ", ".join(f"{stretch} {calibration[stretch]:.2f} s" for stretch in calibration.seen))

    trial_dir = out / "trial"
    while result.kills < kills and result.trials < 4 * kills:
        result.trials += 1
        shutil.rmtree(trial_dir, ignore_errors=True)
        story = []
        try:
            trial(setup, trial_dir, calibration, rng, result, logs / f"trial-{result.trials}", story,
                  lambda: result.kills < kills and rng.random() < again)
            problems = differences(setup, reference, trial_dir)
        except Failed as failure:
            problems = [str(failure)]
        if problems:
            kept = out / f"failed-trial-{result.trials}"
            shutil.rmtree(kept, ignore_errors=True)
            if trial_dir.exists():
                shutil.move(trial_dir, kept)
            result.failures.append({"trial": result.trials, "story": story, "problems": problems,
                                    "folder": str(kept)})
            report(f"trial {result.trials}: {'; '.join(story)}: NOT EXACT: {problems[0]}")
        else:
            result.exact += 1
            report(f"trial {result.trials}: {'; '.join(story)}: exact")
    shutil.rmtree(trial_dir, ignore_errors=True)
    result.seconds = time.monotonic() - started
    return result


def trial(setup: Setup, logdir: Path, calibration: Calibration, rng: random.Random, result: Result, log: str,
          story: list, kill_again) -> None:
    """Start the command, kill it, resume it, and so on until an attempt finishes; what happened goes
    to `story`, a phrase an attempt. The first attempt is killed; a later one if `kill_again()`."""
    resume, kill = False, True
    for number in range(1, 100):
        before = snapshot(setup, logdir)
        moment = draw_moment(setup, calibration, before, rng) if kill else None
        watcher, returncode, stderr = attempt(setup, logdir, resume, moment, Path(f"{log}-attempt-{number}.stderr"),
                                              result, before)
        calibration.learn(setup, watcher)
        if resume and re.search(r"checkpoint \S+ cannot be read", stderr):
            result.fallbacks += 1
        if returncode == -signal.SIGKILL:
            wait_for_locks(logdir)
            kind = classify(setup, logdir, watcher.begun_ns, before)
            result.kills += 1
            result.landed[kind] += 1
            story.append(f"killed {kind} ({moment[0]} +{moment[1]:.2f} s)")
            if kind in (BEFORE_FIRST_CHECKPOINT, BEFORE_RECORD):
                refused(setup, logdir, f"{log}-attempt-{number}-refused.stderr", result)
                resume = False  # the user starts again, without --resume
            else:
                resume = True
            kill = kill_again()
            continue
        if resume and returncode == 2 and any(words in stderr for words in REFUSALS[1:]):
            # Every checkpoint there is was cut short (a kill inside the first one's index): as --resume
            # says, the user starts afresh.
            result.unreadable_refusals += 1
            story.append("--resume refused: no checkpoint reads whole")
            resume = False
            continue
        if "Traceback" in stderr or returncode != 0:
            raise Failed(f"attempt {number} {'(--resume) ' if resume else ''}exited {returncode}: {stderr[-1500:]}")
        if moment:
            result.outran += 1
        story.append("finished" + (f" before its moment ({moment[0]} +{moment[1]:.2f} s)" if moment else ""))
        return
    raise Failed("a hundred attempts and none finished")


def attempt(setup: Setup, logdir: Path, resume: bool, moment, log: Path, result: Result, before: dict | None = None):
    """Run the command once, watching its folder, and SIGKILL it at `moment` (an event of `Watcher`'s,
    or "start", and a delay after it) if one is given. A sweep's point, a process of its own, dies with
    the command (Linux's PR_SET_PDEATHSIG); this waits until it has. `before` is the folder's
    `snapshot` before the attempt. Return the watcher, the exit code (-9 for a kill that landed) and
    what the command printed on stderr."""
    before = before or snapshot(setup, logdir)
    with open(log, "w") as stderr:
        begun_ns, begun = time.time_ns(), time.monotonic()
        process = subprocess.Popen(setup.command(logdir, resume), cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr)
        result.processes += 1
        watcher = Watcher(setup, logdir, begun_ns, before)
        while process.poll() is None:
            now = time.monotonic() - begun
            watcher.look(now)
            if moment is not None:
                anchor, delay = moment
                at = 0.0 if anchor == "start" else watcher.events.get(anchor)
                if at is not None and now >= at + delay:
                    kill(process)
                    break
            time.sleep(POLL)
        watcher.events["end"] = time.monotonic() - begun
    return watcher, process.wait(), log.read_text()


def kill(process) -> None:
    children = descendants(process.pid)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in children):
        if time.monotonic() > deadline:
            raise Failed(f"the command was killed, but its processes {children} still run after a minute")
        time.sleep(POLL)


def refused(setup: Setup, logdir: Path, log: str, result: Result) -> None:
    """`--resume` with nothing to resume must be refused in one line, exit code 2, nothing touched."""
    listing = sorted(str(path.relative_to(logdir)) for path in logdir.rglob("*"))
    finished = subprocess.run(setup.command(logdir, resume=True), cwd=REPO, capture_output=True, text=True)
    result.processes += 1
    Path(log).write_text(finished.stderr)
    if finished.returncode != 2 or REFUSALS[0] not in finished.stderr:
        raise Failed(f"--resume after a kill before anything could be resumed exited {finished.returncode}, "
                     f"not 2 with 'nothing to resume': {finished.stderr[-1500:]}")
    if sorted(str(path.relative_to(logdir)) for path in logdir.rglob("*")) != listing:
        raise Failed("a refused --resume changed the folder")


def draw_moment(setup: Setup, calibration: Calibration, before: dict, rng: random.Random) -> tuple[str, float]:
    """When to kill this attempt: an event of `Watcher`'s (or "start") and a delay after it, in seconds."""
    if setup.sweep is not None:
        pending = [index for index, value in enumerate(setup.sweep.values) if value not in before["done"]]
        if rng.random() < 0.5:  # anywhere in what is left: mostly between points, or in a point's start-up
            return "start", rng.uniform(0, calibration["record"] + len(pending) * calibration["point"])
        index = rng.choice(pending)  # inside a point: its epochs, its checkpoints, its final writes
        return run_moment(f"point {index} ", before["latest"][index], setup.epochs, calibration,
                          rng.choice(["epochs", "final"]), rng)
    return run_moment("", before["latest"][0], setup.epochs, calibration,
                      rng.choice(["start-up", "epochs", "final"]), rng)


def run_moment(prefix: str, latest_before: int, epochs: int, calibration: Calibration, stretch: str,
               rng: random.Random) -> tuple[str, float]:
    """A moment in one stretch of one run: its start-up, its epochs and checkpoints, its final writes."""
    resumed_from = max(latest_before, 0)
    if stretch == "start-up":
        return "start", rng.uniform(0, calibration["start-up"])
    if stretch == "epochs" and resumed_from < epochs:
        # From the attempt's first checkpoint of its own to the end of its last.
        return prefix + "first_checkpoint", rng.uniform(0, (epochs - resumed_from) * calibration["epoch"])
    # The final writes, and a little of the exit after them: a moment drawn up to the exit's end
    # would often come after an attempt that had already finished.
    return prefix + "last_checkpoint", rng.uniform(0, 1.2 * calibration["final"])


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # it ended while we looked
                continue
            children.setdefault(parent, []).append(int(entry))
    found, waiting = [], [pid]
    while waiting:
        below = children.get(waiting.pop(), [])
        found += below
        waiting += below
    return found


def alive(pid: int) -> bool:
    """Whether `pid` still runs; a zombie (dead, not yet reaped) has let go of its files and locks."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for_locks(logdir: Path) -> None:
    """Until no process holds a lock under `logdir`: the operating system drops a killed process's
    `flock` as the process ends, and the next command must find the folders free, as a user would."""
    deadline = time.monotonic() + 60
    for path in logdir.rglob(".lock"):
        while True:
            try:
                descriptor = os.open(path, os.O_RDONLY)
            except OSError:  # gone: no one holds it
                break
            try:
                fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise Failed(f"{path} is still held a minute after the kill") from None
                time.sleep(POLL)
            finally:
                os.close(descriptor)


def snapshot(setup: Setup, logdir: Path) -> dict:
    """What the folder holds before an attempt: each run folder's latest checkpoint and the
    checkpoint writes left unfinished, and a sweep's points done."""
    folders = setup.run_folders(logdir)
    record = read_json(setup.folder(logdir) / "sweep.json") if setup.sweep else None
    return {"latest": [latest_checkpoint(folder / "checkpoints") for folder in folders],
            "in_flight": [checkpoint_in_flight(folder / "checkpoints") for folder in folders],
            "done": (record or {}).get("done", [])}


def classify(setup: Setup, logdir: Path, begun_ns: int, before: dict) -> str:
    """Where a kill landed, read from the folder right after it."""
    if setup.sweep is None:
        return classify_run(setup.folder(logdir), begun_ns, before["latest"][0], before["in_flight"][0], setup.epochs,
                            fresh=True)
    sweep_json = setup.folder(logdir) / "sweep.json"
    record = read_json(sweep_json)
    if record is None:
        return BEFORE_RECORD
    if not written_since(sweep_json, begun_ns):
        return "the command's start-up (before it took the sweep's folder)"
    pending = [index for index, value in enumerate(setup.sweep.values) if value not in record["done"]]
    if not pending:
        return "after the last point (the comparison picture, the summary)"
    index = pending[0]
    point = setup.run_folders(logdir)[index]
    if all(written_since(point / name, begun_ns) for name in OUTPUTS):
        return "between points: a point done, sweep.json not yet saying so"
    if not written_since(point / "config.json", begun_ns):
        return "between points: the next point's process starting"
    inside = classify_run(point, begun_ns, before["latest"][index], before["in_flight"][index], setup.epochs,
                          fresh=False)
    return f"inside a point: {inside}"


def classify_run(folder: Path, begun_ns: int, latest_before: int, in_flight_before: set, epochs: int,
                 fresh: bool) -> str:
    """Where a kill of one run landed. `fresh`: the run is a single run's, whose kill before any
    checkpoint leaves nothing to resume (a sweep's point simply starts again)."""
    latest = latest_checkpoint(folder / "checkpoints")
    if latest < 0:
        return BEFORE_FIRST_CHECKPOINT if fresh else "before its first checkpoint"
    if not written_since(folder / "config.json", begun_ns):
        return RUN_KINDS[1]
    if checkpoint_in_flight(folder / "checkpoints") - in_flight_before:
        return RUN_KINDS[4]
    if latest == latest_before and latest < epochs:
        return RUN_KINDS[2]
    if latest < epochs:
        return RUN_KINDS[3]
    if not all(written_since(folder / name, begun_ns) for name in OUTPUTS):
        return RUN_KINDS[5]
    return RUN_KINDS[6]


def latest_checkpoint(checkpoints: Path) -> int:
    """The newest checkpoint on disk, from its index file (ckpt-12.index), as `--resume` finds it; -1
    for none. Not from CheckpointManager's list, which TensorFlow rewrites after the files are in place."""
    numbers = [int(match.group(1)) for path in checkpoints.glob("ckpt-*.index")
               if (match := re.fullmatch(r"ckpt-(\d+)\.index", path.name))]
    return max(numbers, default=-1)


def checkpoint_in_flight(checkpoints: Path) -> set[str]:
    """The marks of a checkpoint's write cut short: its temporary folder, the list's temporary file,
    data without an index yet, an index the list does not name yet."""
    try:
        names = {path.name for path in checkpoints.iterdir()}
        state = (checkpoints / "checkpoint").read_text() if "checkpoint" in names else ""
    except OSError:  # no folder yet, or the list replaced while we read it
        return set()
    marks = {name for name in names if name.endswith("_temp") or name.startswith("checkpoint.tmp")}
    marks |= {name for name in names if re.fullmatch(r"ckpt-\d+\.data-.*", name)
              and name.split(".")[0] + ".index" not in names}
    listed = re.search(r'^model_checkpoint_path: "(.*)"', state, re.MULTILINE)
    newest = latest_checkpoint(checkpoints)
    if newest >= 0 and (listed is None or Path(listed.group(1)).name != f"ckpt-{newest}"):
        marks.add(f"ckpt-{newest}.index, not yet in the list")
    return marks


def written_since(path: Path, since_ns: int) -> bool:
    try:
        return path.stat().st_mtime_ns >= since_ns
    except OSError:
        return False


def read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def differences(setup: Setup, reference: Path, trial_dir: Path) -> list[str]:
    """How the trial's folder differs from the reference's; none when it ended exactly."""
    problems = []
    for ours, theirs in zip(setup.run_folders(trial_dir), setup.run_folders(reference)):
        name = ours.relative_to(trial_dir)
        try:
            if history_rows(ours / "history.csv") != history_rows(theirs / "history.csv"):
                problems.append(f"{name}/history.csv: {first_difference(ours, theirs)}")
            for weights in ("best.weights.h5", "final.weights.h5"):
                problems += [f"{name}/{weights}{problem}" for problem in
                             weights_differences(read_weights(ours / weights), read_weights(theirs / weights))]
            if (ours / "test.json").read_bytes() != (theirs / "test.json").read_bytes():
                problems.append(f"{name}/test.json differs from the reference's")
        except Exception as error:  # a file missing or unreadable
            problems.append(f"{name}: {error}")
    compared = ["config.json"] if setup.sweep is None else ["sweep.json"] + [
        f"{setup.sweep.label(value)}/config.json" for value in setup.sweep.values]
    for file_name in compared:
        ours, theirs = setup.folder(trial_dir) / file_name, setup.folder(reference) / file_name
        if not ours.is_file() or ours.read_bytes() != theirs.read_bytes():
            problems.append(f"{ours.relative_to(trial_dir)} differs from the reference's")
    extra, missing = listing(trial_dir) - listing(reference), listing(reference) - listing(trial_dir)
    if extra:
        problems.append(f"files the run never stopped does not leave: {', '.join(sorted(extra))}")
    if missing:
        problems.append(f"files missing: {', '.join(sorted(missing))}")
    return problems


def weights_differences(mine: dict, reference: dict) -> list[str]:
    if sorted(mine) != sorted(reference):
        return [f" holds {sorted(mine)}, not {sorted(reference)}"]
    return [f": {key} differs" for key, values in reference.items() if not same_bits(mine[key], values)]


def history_rows(path: Path) -> list[list[str]]:
    """history.csv's rows as written, digit for digit, without the `seconds` column (wall time)."""
    with open(path, newline="") as file:
        rows = list(csv.reader(file))
    seconds = rows[0].index("seconds")
    return [row[:seconds] + row[seconds + 1:] for row in rows]


def first_difference(ours: Path, theirs: Path) -> str:
    mine, reference = history_rows(ours / "history.csv"), history_rows(theirs / "history.csv")
    if len(mine) != len(reference):
        return f"{len(mine) - 1} epochs, not {len(reference) - 1}"
    for row, (a, b) in enumerate(zip(mine, reference)):
        if a != b:
            column = next(index for index in range(len(a)) if a[index] != b[index])
            return f"epoch {row - 1}, {reference[0][column]}: {a[column]}, not {b[column]}"
    return "differs"


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def listing(logdir: Path) -> set[str]:
    """Every file and folder under `logdir` but the epochs' TensorBoard event files, which each process
    writes anew; a run folder's own event file (its HParams session, one a run) by its kind, not its
    process's name."""
    names = set()
    for path in logdir.rglob("*"):
        if path.name.startswith("events.out.tfevents."):
            if path.parent.name in ("train", "validation"):
                continue
            path = path.with_name("events.out.tfevents.*")
            if str(path.relative_to(logdir)) in names:  # two sessions in one run folder: one too many
                path = path.with_name(f"{path.name} (again)")
        names.add(str(path.relative_to(logdir)))
    return names


def summary(setup: Setup, kills: int, seed: int, result: Result) -> str:
    what = f"a sweep {setup.sweep} of" if setup.sweep else "a run of"
    fields = "".join(f", {assignment}" for assignment in setup.fields)
    lines = [
        f"kill campaign: {what} {setup.experiment.stem}, {setup.epochs} epochs, a checkpoint after every one, "
        f"loop={setup.loop}{fields}, seed {seed}",
        f"kills: {result.kills} (asked for {kills}) in {result.trials} trials; {result.outran} more moments drawn "
        f"came after the attempt had finished; {result.processes} commands started",
        "where they landed:",
    ]
    lines += [f"  {count:4d}  {kind}" for kind, count in sorted(result.landed.items(), key=lambda item: -item[1])]
    if result.fallbacks:
        lines.append(f"resumes that passed over a checkpoint that did not read whole: {result.fallbacks}")
    if result.unreadable_refusals:
        lines.append(f"resumes refused because no checkpoint read whole: {result.unreadable_refusals}")
    lines.append(f"exact: {result.exact} of {result.trials} trials (history.csv but `seconds`, both weights files bit "
                 f"for bit, test.json, config.json, and no file the run never stopped does not leave)")
    for failure in result.failures:
        lines.append(f"FAILED trial {failure['trial']} (kept in {failure['folder']}): {'; '.join(failure['story'])}")
        lines += [f"    {problem}" for problem in failure["problems"]]
    lines.append(f"wall time: {result.seconds:.0f} s (the reference run alone: {result.reference_seconds:.1f} s)")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = ArgumentParser(description="Kill a run (or a sweep) at random moments, resume it each time, and "
                                        "compare it with the run never stopped.")
    parser.add_argument("--kills", type=int, default=30, help="kills to land, at least (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="seeds the moments drawn (default 0)")
    parser.add_argument("--out", type=Path,
                        help="where the runs go (default: a temporary folder, removed unless a trial failed)")
    parser.add_argument("--experiment", type=Path, default=REPO / "experiments" / "tiny.py")
    parser.add_argument("--epochs", type=int, default=30, help="each run's epochs (default 30)")
    parser.add_argument("--loop", choices=["epoch", "step"], default="epoch")
    parser.add_argument("--sweep", metavar="FIELD=VALUE,VALUE,...",
                        help="kill a sweep instead of a single run, e.g. --sweep seed=0,1,2")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="another field of the runs, e.g. --set jit_compile=false")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="looptrain-kill-campaign-"))
    ours = {"reference", "trial", "logs", "rows.csv.gz", "summary.json"}
    strangers = [path.name for path in out.iterdir() if path.name not in ours
                 and not path.name.startswith("failed-trial-")] if out.is_dir() else []
    if strangers:
        parser.error(f"--out {out} holds {', '.join(sorted(strangers)[:3])}, which the campaign did not write")
    out.mkdir(parents=True, exist_ok=True)
    setup = Setup(experiment=args.experiment.resolve(), data=write_rows(out / "rows.csv.gz", made_up_rows(ROWS)),
                  epochs=args.epochs, loop=args.loop, sweep=parse_sweep(args.sweep) if args.sweep else None, fields=tuple(args.set))
    result = campaign(setup, args.kills, args.seed, out)
    print(summary(setup, args.kills, args.seed, result))
    (out / "summary.json").write_text(json.dumps({
        "kills": result.kills, "trials": result.trials, "exact": result.exact, "landed": dict(result.landed),
        "outran": result.outran, "processes": result.processes, "fallbacks": result.fallbacks,
        "unreadable_refusals": result.unreadable_refusals, "failures": result.failures,
        "seconds": result.seconds, "reference_seconds": result.reference_seconds}, indent=2) + "\n")
    if result.failures:
        return 1
    if args.out is None:
        shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
