"""looptrain: the TensorFlow tutorial "Overfit and underfit", trained by a hand-written loop.

Read in this order: `loop/step` (the math on one batch) → `loop/epoch` (a pass over the rows, then
validation) → `loop/fit` (epochs, early stopping) → `train` (one experiment end to end) → `run` (the
command line). The experiments are in `experiments/`; the defaults in `config`. The folders:
`loop/` the lesson, what `Model.fit` hides: tensors in, scalars out, no files or console;
`models/` the tutorial's network and its layers (dropout, augmentation by the detector's symmetries);
`data/` the rows, HIGGS or IMDB, read and split, with `simulation/` making the default ones;
`runfolder/` what a run writes to disk, and how it keeps the user's files safe;
`results/` finished runs read back as pictures and tables (`plot`, `report`), without TensorFlow;
`launch/` what the command line needs to train many runs safely, each in a process of its own.
"""
