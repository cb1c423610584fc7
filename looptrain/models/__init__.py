"""The models and their layers: the tutorial's MLP (`mlp`), the dropout it uses (`dropout`) and the
layer that augments HIGGS rows by their symmetries (`augmentation`). Batch normalization is Keras's own
layer, placed by `mlp`. Nothing here reads data or knows the loop.
"""
