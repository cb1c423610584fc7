"""What looptrain may replace: the folders and files it wrote itself, and nothing else.

A run folder is looptrain's when it holds looptrain's `config.json`, which a run writes before
anything else, and nothing but what a run writes (`RUN_FILES`, its HParams event files, `RUN_FOLDERS`,
a `--profile` trace, its lock, the temporary files of a write cut short); a sweep folder (`looptrain.runfolder.sweep`) when it holds
looptrain's `sweep.json` and nothing but its points' run folders. Anything else in such a folder is
the user's: the folder is refused whole, before anything trains, and nothing is deleted; an empty
folder may be used. A file looptrain writes outside a run folder (a comparison picture, the report's
Markdown) carries looptrain's signature, and only a file that carries it is replaced.
docs/resume-and-errors.md says what survives what. What is not here: writing files whole
(`files`), and one process to a folder (`lock`).
"""

import json
import re
import shutil
from pathlib import Path

from looptrain.errors import InputError

# The files of a run folder, and the folders whose every file TensorFlow writes.
RUN_FILES = {"config.json", "history.csv", "best.weights.h5", "final.weights.h5", "test.json", "curves.png",
             "reliability.png"}
LOCK = ".lock"  # `looptrain.runfolder.lock`'s file, in the folder it guards
EVENT_FILE = re.compile(r"events\.out\.tfevents\..+")  # TensorBoard's: in the run folder, train/ and validation/
CHECKPOINT_FILE = re.compile(
    r"checkpoint"  # CheckpointManager's list of the checkpoints it keeps
    r"|checkpoint\.tmp\w+"  # that list while TensorFlow rewrites it
    r"|ckpt-\d+\.(index|data-\d+-of-\d+)"  # one checkpoint: its index and its shards
)
CHECKPOINT_TEMPORARY = re.compile(r"ckpt-\d+_temp")  # a checkpoint while TensorFlow writes it
RUN_FOLDERS = {  # a run's folders, and what may be in each
    "train": lambda path: path.is_file() and EVENT_FILE.fullmatch(path.name) is not None,
    "validation": lambda path: path.is_file() and EVENT_FILE.fullmatch(path.name) is not None,
    "checkpoints": lambda path: (path.is_file() and CHECKPOINT_FILE.fullmatch(path.name) is not None
                                 or path.is_dir() and CHECKPOINT_TEMPORARY.fullmatch(path.name) is not None),
}
# `--profile`'s trace (`looptrain.runfolder.profile`), as TensorFlow's profiler lays it out: its
# folders, and the one file in each of its timestamped folders.
PROFILE_FOLDER = re.compile(r"plugins(/profile(/\d{4}(_\d\d){5})?)?")
PROFILE_FILE = re.compile(r"plugins/profile/\d{4}(_\d\d){5}/[^/]+\.xplane\.pb")
SWEEP_FILE = "sweep.json"
SWEEP_POINT = re.compile(r"[a-z_]+=[^/]+")  # a sweep point's run folder: FIELD=VALUE
# What looptrain's pictures and Markdown carry, so that it can tell its own files from the user's.
SIGNATURE = "written by looptrain"


def check_folder(folder: Path, advice: str = "choose another --logdir") -> None:
    """Refuse `folder` unless it is absent, empty, or a run or sweep folder that holds only what
    looptrain writes: one line naming the folder, what in it is not looptrain's, and what to do."""
    if not folder.exists():
        # A folder that is not there yet is made later, and cannot be below a file: known now, not at the
        # first write.
        blocking = next((parent for parent in folder.absolute().parents if parent.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise InputError(f"{folder} cannot be made: {blocking} is a file, not a folder; {advice}")
        return
    if not folder.is_dir():
        raise InputError(f"{folder} is a file, not a folder looptrain wrote: {advice}, or move it away yourself")
    _, strangers = survey(folder)
    if strangers:
        shown = ", ".join(strangers[:3]) + (f" and {len(strangers) - 3} more" if len(strangers) > 3 else "")
        raise InputError(f"{folder} holds {shown}, which looptrain did not write, so it leaves the folder alone: "
                         f"{advice}, or remove the folder yourself")


def clear_folder(folder: Path) -> None:
    """Delete what looptrain wrote in `folder`, after checking that that is all it holds, but the lock
    of the process doing it. Only what was surveyed is deleted, never a file that appeared since."""
    check_folder(folder)
    if not folder.exists():
        return
    mine, _ = survey(folder)
    for path in mine:  # each folder after what it holds
        if path == folder / LOCK:
            continue
        if path.is_dir() and CHECKPOINT_TEMPORARY.fullmatch(path.name):
            shutil.rmtree(path)  # TensorFlow's own, cut short
        elif path.is_dir():
            path.rmdir()  # fails, and says so, if a file appeared in it since the survey
        else:
            path.unlink()


def survey(folder: Path) -> tuple[list[Path], list[str]]:
    """What `folder` holds: looptrain's own entries (each folder after its contents) and the relative
    names of all the others. Without looptrain's config.json (a run) or sweep.json (a sweep), only a
    lock and the temporary file of a first write cut short are looptrain's."""
    if is_looptrain_json(folder / "config.json", "experiment"):
        kind = "run"
    elif is_looptrain_json(folder / SWEEP_FILE, "field"):
        kind = "sweep"
    else:
        kind = None
    own_files = {"run": RUN_FILES, "sweep": {SWEEP_FILE}}.get(kind, set())
    mine, strangers = [], []
    for path in sorted(folder.iterdir()):
        name = path.name
        cut_short = name.startswith("partial.") and name.removeprefix("partial.") in RUN_FILES | {SWEEP_FILE}
        # A run's own event file holds its HParams session (`looptrain.runfolder.hparams`).
        own_events = kind == "run" and EVENT_FILE.fullmatch(name) is not None
        if path.is_file() and (name in own_files or name == LOCK or cut_short or own_events):
            mine.append(path)
        elif kind == "run" and path.is_dir() and name in RUN_FOLDERS:
            for child in sorted(path.iterdir()):
                if RUN_FOLDERS[name](child):
                    mine.append(child)
                else:
                    strangers.append(f"{name}/{child.name}")
            mine.append(path)
        elif kind == "run" and path.is_dir() and name == "plugins":
            for child in sorted(path.rglob("*"), reverse=True):  # each folder after what it holds
                relative = child.relative_to(folder).as_posix()
                if (PROFILE_FILE if child.is_file() else PROFILE_FOLDER).fullmatch(relative):
                    mine.append(child)
                else:
                    strangers.append(relative + ("/" if child.is_dir() else ""))
            mine.append(path)
        elif kind == "sweep" and path.is_dir() and SWEEP_POINT.fullmatch(name):
            point_mine, point_strangers = survey(path)
            mine += point_mine + [path]
            strangers += [f"{name}/{stranger}" for stranger in point_strangers]
        else:
            strangers.append(name + ("/" if path.is_dir() else ""))
    return mine, strangers


def is_looptrain_json(path: Path, key: str) -> bool:
    """Whether `path` is a JSON object of looptrain's: it has `key` ("experiment" for a run's
    config.json, "field" for a sweep's sweep.json) and the fields of a configuration."""
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError):  # absent, unreadable, or not JSON
        return False
    return isinstance(content, dict) and key in content and isinstance(content.get("fields"), dict)


def check_file(path: Path, advice: str) -> None:
    """Refuse to replace `path` unless it is absent or a file looptrain wrote (it carries SIGNATURE)."""
    if path.exists() and not carries_signature(path):
        raise InputError(f"{path} exists and looptrain did not write it: {advice}, or move it away yourself")


def carries_signature(path: Path) -> bool:
    # A picture or a table of looptrain's is small; anything larger is someone else's.
    return path.is_file() and path.stat().st_size < 64 * 2 ** 20 and SIGNATURE.encode() in path.read_bytes()


def picture_metadata(path: Path) -> dict:
    """What `savefig(metadata=...)` takes to sign a picture: PNG's "Software", SVG's and PDF's "Creator"."""
    return {"Software": SIGNATURE} if path.suffix.lower() == ".png" else {"Creator": SIGNATURE}
