"""The architectures, one file each; `registry` finds them (a new file is a new architecture)."""
