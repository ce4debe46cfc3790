"""What the engine talks about: entities, specs, hyperparameters, errors. No I/O."""
