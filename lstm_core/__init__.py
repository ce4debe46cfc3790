"""lstm_core: the engine behind the workbench (intake, models, search, store, bundles).

Importing the package is cheap: TensorFlow loads only where a model is built or loaded.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from lstm_core.models import quiet_tensorflow  # noqa: E402  (after the log level is set)

quiet_tensorflow.install()

__version__ = "0.1.0"
