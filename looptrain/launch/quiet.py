"""Importing TensorFlow without the start-up notices its C++ runtime prints on stderr.

The command lines import TensorFlow only once their own checks have passed, and quietly, so that an
error of ours stands alone on stderr. What is not here: anything TensorFlow does once imported.
"""

import os


def import_tensorflow_quietly() -> None:
    """TensorFlow's C++ runtime prints start-up notices (oneDNN, CUDA) straight to file descriptor 2,
    past Python and past TF_CPP_MIN_LOG_LEVEL. Hide them; a failing import still raises, after stderr
    is back. Later notices, such as XLA's line when it compiles the first epoch, do heed
    TF_CPP_MIN_LOG_LEVEL: 2 keeps only errors."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()  # the device search, with its "no CUDA" complaint, happens here
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
