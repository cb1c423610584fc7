"""The fault campaign in full: a run's writes refused at every page where one can be refused.

    sudo python benchmarks/fault_campaign.py                       # every family, some 170 cases
    sudo python benchmarks/fault_campaign.py --families fresh,resume --out /tmp/faults.json

Each case is the real command (shrunk Tiny on 600 made-up rows, the last 100 its test rows, three
epochs, a checkpoint after each) in a process of its own, on a tmpfs mounted for it, and each
outcome goes through the checker of `tests/runfolder/test_faults.py`, which the suite runs a dozen
cases of. The families:
- fresh: a fresh run on a disk with 0, 1, 2, ... pages free, one more each time, up to the run's
  peak, where it ends well: every write of the run is the first one refused once;
- resume: `--resume` of that run stopped after its last epoch (without its test rows' files), which
  writes its lock, config.json, two event files and then its end files again, each beside the old
  one, and the test rows' two anew, on 0, 1, 2, ... pages free;
- sweep: `--sweep seed=0,1`: its lock and sweep.json refused, then each kind of file refused in the
  second point, the first one done, and the comparison picture refused at its first, middle and last
  page;
- synthetic: `--data synthetic` with $XDG_CACHE_HOME on the disk: the cache's file and its sidecar
  refused at each page, the run folder elsewhere (the run goes on, the rows made in memory), and
  twice with the run folder on the same disk;
- read-only: the disk read-only before a fresh run, a resumed run, a sweep and a synthetic one, and
  a run's checkpoints/ made read-only mid-run (a bind mount: the kernel refuses to make a disk
  read-only while a run holds files on it open for writing, and a run always does);
- profile: a fresh run with `--profile 1` on a disk that runs out inside the trace of epoch 1 and
  just after it;
- file-size: `RLIMIT_FSIZE` one byte below each file a run, a sweep and the cache write, where that
  is above the 3.9 kB TensorFlow's own AutoGraph needs, and one limit below it.
It prints each case (what went wrong where, the exit code, which file was refused first, and every
problem the checker found) and the counts: cases by fault and by the file refused first, problems,
and the time. Needs root, to mount. Nothing here is a test; its numbers go to
docs/resume-and-errors.md, "The fault campaign".
"""

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "tests"),
                str(Path(__file__).resolve().parents[1] / "tests" / "runfolder")]
# The campaign's cases, runner and checker are the suite's own.
from test_faults import (AUTOGRAPH_BYTES, LOCK_PAGES, Campaign, Case, fresh_levels, mount_refused,  # noqa: E402
                         report, resume_levels)

FAMILIES = ["fresh", "resume", "sweep", "synthetic", "read-only", "file-size", "profile"]


def disk_full(free: int, command: str = "run", peak: int | None = None, **fields) -> Case:
    """A disk-full case; at `peak` pages free or more, the command must end well."""
    ends_well = peak is not None and free >= peak
    return Case("disk full", f"{free} pages free", command, free_pages=free,
                expected=(0,) if ends_well else fields.pop("expected", (5,)), **fields)


def measured_once(measured: dict, command: str, measure):
    """A command's run on an ample disk, made the first time a family needs it."""
    if command not in measured:
        measured[command] = measure()
    return measured[command]


def run_family(campaign: Campaign, family: str, measured: dict) -> None:
    run = measured["run"]
    peak = run.total + LOCK_PAGES
    if family == "fresh":
        for free in range(peak + 1):
            campaign.run(disk_full(free, peak=peak))
    elif family == "resume":
        levels = resume_levels(run)
        # The test rows' files written anew, then the new picture beside the old: the peak.
        end = levels["history.csv"] + run.of("test.json") + run.of("reliability.png") + run.of("curves.png")
        for free in range(end + 1):
            campaign.run(disk_full(free, "resume", peak=end))
    elif family == "sweep":
        sweep = measured_once(measured, "sweep", lambda: campaign.measure("sweep"))
        first = sum(pages for path, pages in sweep.pages.items() if path.startswith("seed=0/"))
        done = LOCK_PAGES + sweep.of("sweep.json") + first  # the sweep's lock and record, and the first point
        both = done + sum(pages for path, pages in sweep.pages.items() if path.startswith("seed=1/"))
        picture = sweep.of("comparison.png")
        frees = [0, LOCK_PAGES] + [done + free for free in fresh_levels(run).values()]
        # The picture is drawn once both points are done, sweep.json says so and the sweep's lock is
        # gone; its first pages are the second point's lock's and the sweep's, so the second point's
        # last file is refused there instead: the picture is refused first from its third page on.
        drawn = both - LOCK_PAGES
        frees += sorted({both + 1, drawn + picture // 2, drawn + picture - 1, drawn + picture})
        for free in frees:
            campaign.run(disk_full(free, "sweep", peak=drawn + picture))
    elif family == "synthetic":
        synthetic = measured_once(measured, "synthetic", lambda: campaign.measure("synthetic", logdir_on_disk=False))
        rows = next(pages for path, pages in synthetic.pages.items() if path.endswith(".csv.gz"))
        for free in range(rows + 2):  # the rows' pages, the sidecar's, and room for both
            campaign.run(disk_full(free, "synthetic", logdir_on_disk=False, expected=(0,)))
        # On the same disk as the run folder: the cache refused, and then the run; the cache written,
        # and then the run's picture refused.
        campaign.run(disk_full(rows // 2, "synthetic"))
        campaign.run(disk_full(rows + 1 + fresh_levels(run)["curves.png"], "synthetic"))
    elif family == "read-only":
        for command in ["run", "resume", "sweep"]:
            campaign.run(Case("read-only", "before the run", command))
        campaign.run(Case("read-only", "before the run", "synthetic", logdir_on_disk=False, expected=(0,)))
        campaign.run(Case("read-only", "before the run", "synthetic"))
        campaign.run(Case("read-only", "checkpoints/ mid-run"))
    elif family == "profile":
        # `--profile 1`: the trace of epoch 1, some 20 pages, written after the first checkpoint.
        after_first = fresh_levels(run)["checkpoint"] + 1
        for free in range(after_first, after_first + 24, 2):
            campaign.run(disk_full(free, "profile"))
    elif family == "file-size":
        sweep = measured_once(measured, "sweep", lambda: campaign.measure("sweep"))
        synthetic = measured_once(measured, "synthetic", lambda: campaign.measure("synthetic", logdir_on_disk=False))
        limits = {size - 1: "run" for size in run.sizes.values() if size > AUTOGRAPH_BYTES}
        limits[sweep.sizes["comparison.png"] - 1] = "sweep"
        limits.update({size - 1: "synthetic" for path, size in synthetic.sizes.items() if path.endswith(".csv.gz")})
        largest = max(run.sizes.values())  # a run's largest file: a lower limit refuses one of the run's too
        for limit, command in sorted(limits.items()):
            goes_on = command == "synthetic" and limit >= largest  # only the cache refused: the run goes on
            campaign.run(Case("file too large", f"limit {limit:,} bytes", command, file_size_limit=limit,
                              logdir_on_disk=command != "synthetic", expected=(0,) if goes_on else (5,)))
        # Below what TensorFlow needs for itself: config.json would be the first of ours over the limit.
        limit = run.sizes["config.json"] - 1
        campaign.run(Case("file too large", f"limit {limit:,} bytes", file_size_limit=limit,
                          known="AutoGraph cannot write the functions it converts, and TensorFlow fails to trace "
                                "the epoch before the run folder is touched"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default=",".join(FAMILIES), help=f"which of {', '.join(FAMILIES)}")
    parser.add_argument("--out", type=Path, help="write every case's outcome here, as JSON")
    args = parser.parse_args(argv)
    families = args.families.split(",")
    if unknown := set(families) - set(FAMILIES):
        parser.error(f"unknown families: {', '.join(sorted(unknown))}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fault-campaign-") as folder:
        if reason := mount_refused(Path(folder) / "probe"):
            print(reason, file=sys.stderr)
            return 1
        campaign = Campaign(Path(folder))
        measured = {"run": campaign.measure()}
        for family in families:
            before = len(campaign.outcomes)
            run_family(campaign, family, measured)
            for outcome in campaign.outcomes[before:]:
                problems = "".join(f"\n    {problem}" for problem in outcome.problems)
                print(f"{outcome} ({outcome.seconds:.0f} s){problems}", flush=True)
    outcomes = campaign.outcomes
    minutes = (time.monotonic() - started) / 60
    print(f"\n{len(outcomes)} cases in {minutes:.1f} minutes")
    print("by fault:", dict(Counter(outcome.case.fault for outcome in outcomes)))
    print("by command:", dict(Counter(outcome.case.command for outcome in outcomes)))
    print("refused first:", dict(Counter(outcome.failed or "nothing" for outcome in outcomes)))
    print("refused at all:", dict(Counter(kind for outcome in outcomes for kind in outcome.refused)))
    print("exit codes:", dict(Counter(outcome.returncode for outcome in outcomes)))
    failing = [outcome for outcome in outcomes if outcome.problems and not outcome.case.known]
    print(f"{len(failing)} cases with problems" + (":\n" + report(failing) if failing else ""))
    for outcome in outcomes:
        if outcome.case.known and outcome.problems:
            print(f"known, not looptrain's: {outcome}: {outcome.case.known}")
    if args.out:
        args.out.write_text(json.dumps([{"fault": outcome.case.fault, "setting": outcome.case.setting,
                                         "command": outcome.case.command, "exit": outcome.returncode,
                                         "refused first": outcome.failed, "refused": sorted(outcome.refused),
                                         "seconds": round(outcome.seconds, 1), "problems": outcome.problems,
                                         "known": outcome.case.known,
                                         "stderr": outcome.stderr[-2000:]} for outcome in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
