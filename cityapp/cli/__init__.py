"""The ``city`` command line: ``main`` assembles it; ``common`` holds what every command shares."""
