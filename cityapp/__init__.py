"""The application layer: the `city` command line and the demo, on top of every other package."""
