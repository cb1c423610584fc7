"""Mixed precision: a model's layers computing in bfloat16 or float16 while its weights stay float32.

Keras decides a layer's dtypes when the layer is made, from the global dtype policy; so the model is
built under the precision's policy (`build_model`), and the policy is put back at once, so that a
model built later in the same process (another run, a test) does not inherit it. Each layer keeps
its own policy: `mixed_bfloat16` computes in bfloat16 and keeps float32 weights, which the
optimizer updates in float32. The output layer must compute in float32 (the models' builder,
`models.mlp`, says so): a logit rounded to bfloat16's 8 bits of mantissa would make the
cross-entropy coarse. What is not here: scaling the loss for float16, which is the train step's
(`optimizer.scale_loss`) and Keras's `LossScaleOptimizer`'s (`looptrain.loop.optimizer`).
docs/training-options.md says what changes in a step, and docs/performance.md what it costs here.
"""

import contextlib

import keras

from looptrain.errors import InputError


@contextlib.contextmanager
def dtype_policy(precision: str):
    """Layers made inside compute in `precision` (Keras's policies have the configuration's names);
    the global policy is restored on the way out."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def build_model(build, precision: str) -> keras.Model:
    """`build()`'s model, its layers made under `precision`'s policy; a model whose last layer does
    not compute in float32 is refused."""
    with dtype_policy(precision):
        model = build()
    last = model.layers[-1] if getattr(model, "layers", None) else None
    if last is not None and last.compute_dtype != "float32":
        raise InputError(f"precision={precision}: the model's output layer computes in {last.compute_dtype}; "
                         f"give it dtype=\"float32\" so that the logits and the loss stay float32")
    return model


def needs_loss_scaling(precision: str) -> bool:
    """float16 has 5 bits of exponent: gradients below 6e-8 become 0 unless the loss is scaled up
    first. bfloat16 has float32's 8 bits of exponent, and needs no scaling."""
    return precision == "mixed_float16"
