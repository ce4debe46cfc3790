"""Each backend's schema and the steps that bring an older database up to it, one module
per backend."""
