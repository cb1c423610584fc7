"""Symmetries: the Large model trained on rows each turned into another valid event by the detector's symmetries.

    python -m looptrain.run experiments/symmetries.py

The training flag's third face: a layer that changes the data the model learns from, not how the
model computes. With `training=True` the first layer (`looptrain/models/augmentation.py`) rotates all the
azimuthal angles of each row by one random angle, mirrors them with probability ½ and flips the
sign of all the pseudorapidities with probability ½: an event the collider makes as often as the
original. With `training=False` it passes the rows unchanged. A row is seen in a new orientation
every epoch, so its angles can no longer be memorized; what stays learnable is what the symmetries
keep, the angles between the objects.

Large, not Combined, underneath, so that the comparison with Large shows the augmentation alone, as
L2's and Dropout's do theirs. What five seeds showed (docs/results.md): a best validation
cross-entropy well below Large's on the real HIGGS rows and on the synthetic ones, reached about
twice as late, as good as Combined's on the real rows; but overfitting still, only slower. The
seventeen columns no symmetry moves (the momenta, the b-tags and the masses) are enough to tell
every training row from the others, so a large network can still learn each row's label by heart
from them.

The synthetic default data is simulated event by event (`looptrain/data/simulation/synthetic.py`), so its angles
carry what real events' do: the objects' directions relative to each other. Nothing in the
simulation prefers a direction about the beam or one end of it, so the three symmetries hold there
too, and the augmentation helps there as on the real rows.
"""

from looptrain.models.augmentation import RandomSymmetry
from looptrain.models.mlp import mlp


def build_model(units=512, depth=4):
    return mlp([units] * depth, augmentation=RandomSymmetry())
