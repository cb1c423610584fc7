"""The run folder: everything a run writes to disk and how it keeps the user's files safe.

`checkpoint` (what `--resume` carries on from), `summaries` (TensorBoard), `history` (history.csv and
reading a finished run back), `scores` (test.json, the test rows' numbers), `sweep` (a sweep's
record), `ownership` (a folder looptrain did not write is never touched), `lock` (one run per
folder), `files` (every file written whole, or not at all) and `interruption` (a signal ends a run
cleanly). Nothing here does the math of training.
"""
