"""mlgitops: a declarative GitOps compiler for the machine-learning model lifecycle."""

__version__ = "0.1.0"
