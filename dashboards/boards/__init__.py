"""One module per dashboard; each exposes ``build(context)`` returning the SDK dashboard builder."""
