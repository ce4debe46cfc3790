"""Keras models: the architectures, their training wrapper, bundles and scores."""
