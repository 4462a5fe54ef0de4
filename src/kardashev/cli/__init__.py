"""The ``kardashev`` command line. Each verb group lives in its own module."""
