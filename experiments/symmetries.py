"""Symmetries: the Large model trained on rows each turned into another valid event by the detector's symmetries.

    python -m looptrain.run experiments/symmetries.py

The training flag's third face: a layer that changes the data the model learns from, not how the
model computes. With `training=True` the first layer (`looptrain/augmentation.py`) rotates all the
azimuthal angles of each row by one random angle, mirrors them with probability ½ and flips the
sign of all the pseudorapidities with probability ½: an event the collider makes as often as the
original. With `training=False` it passes the rows unchanged. A row is seen in a new orientation
every epoch, so its angles can no longer be memorized; what stays learnable is what the symmetries
keep, the angles between the objects.

Large, not Combined, underneath, so that the comparison with Large shows the augmentation alone, as
L2's and Dropout's do theirs (on top of Combined it added nothing visible in a first run). Expect,
on the real HIGGS rows, a best validation cross-entropy well below Large's, near Combined's, reached
later; but overfitting still, only slower. The seventeen columns no symmetry moves (the momenta, the
b-tags and the masses) are enough to tell every training row from the others, so a large network
can still learn each row's label by heart from them.

On the synthetic default data the angles carry nothing (they are drawn independently of everything),
so there is no angular physics to learn, and the rotation cannot show its worth; yet expect it to
help there too, less. A network learns rows by heart from any column that tells them apart, noise
included, and the symmetries make six of them new every epoch; the flip of the pseudorapidities is
a symmetry of the synthetic rows as well. Data with angles that matter is what shows the rest.

In first runs on the real rows (seeds 0 and 1) the reflection and the flip alone, without the
rotation, did as well as all three or a little better, by about as much as runs of one experiment
differ; runs with more seeds will say whether the rotation, the exact symmetry, adds anything here.
If it does not, one guess is that the network has only the few dozen epochs before it memorizes the
other columns to learn from angles that wrap around, and the rotation makes every angle new each time.
"""

from looptrain.augmentation import RandomSymmetry
from looptrain.models import mlp


def build_model():
    return mlp([512, 512, 512, 512], augmentation=RandomSymmetry())
