"""The loop itself: what `Model.fit` hides, written out by hand. Start here.

Read in this order: `step` (the math on one batch: the forward pass with `training=True`, the data
loss plus the regularization loss, gradients, the update), `epoch` (one pass over the training rows,
then validation), `fit` (epochs, early stopping, the best weights), `early_stopping` (the rule, with
no TensorFlow), `optimizer` (Adam on the tutorial's schedule), `evaluate` (the best and the final
weights on the test rows, once the epochs are over) with `calibration` (its numbers, in numpy),
`distribute` (the same steps on several devices or machines) and `lost_worker` (a cluster's lost
worker, in one line). Nothing here reads files, writes the run folder or knows the console: tensors
and scalars in, tensors and scalars out.
"""
