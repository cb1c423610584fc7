"""`--profile EPOCH`: a TensorBoard profiler trace of one epoch, written to the run folder.

TensorFlow's profiler records every op the epoch runs, on which thread and for how long, into
`<run>/plugins/profile/<time>/<host>.xplane.pb`, where TensorBoard's Profile tab finds it under the
run's name. Writing the trace needs only TensorFlow; viewing it needs TensorBoard's profile plugin,
the `profile` extra (docs/training-options.md says why it is not a dependency). The epoch in one
graph is one call, so the trace is that call and what the epoch's results cost to read. What is not
here: choosing the epoch (the command line) and running it (`looptrain.loop.fit`).
"""

import contextlib
import shutil
from pathlib import Path

import tensorflow as tf

from looptrain.runfolder import files


def around_epoch(run_dir: Path, profiled: int | None):
    """A function of an epoch's number that gives the context its epoch runs in: the profiler's for
    epoch `profiled`, nothing for the others."""
    def around(epoch: int):
        return trace(run_dir) if epoch == profiled else contextlib.nullcontext()
    return around


@contextlib.contextmanager
def trace(run_dir: Path):
    traces = run_dir / "plugins" / "profile"  # a folder a trace, named by its time
    earlier = set(traces.iterdir()) if traces.is_dir() else set()
    try:
        tf.profiler.experimental.start(str(run_dir))
    except (tf.errors.OpError, OSError) as error:
        raise files.failed(f"the profile in {run_dir / 'plugins'}", error) from None
    try:
        yield
    finally:
        try:
            tf.profiler.experimental.stop()  # writes the trace
        except (tf.errors.OpError, OSError) as error:
            # A trace cut short would pass for one in TensorBoard: it goes.
            for folder in (set(traces.iterdir()) if traces.is_dir() else set()) - earlier:
                shutil.rmtree(folder, ignore_errors=True)
            raise files.failed(f"the profile in {run_dir / 'plugins'}", error) from None
