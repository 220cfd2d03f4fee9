"""Allow ``python -m mlgitops``."""

from mlgitops.cli import main

if __name__ == "__main__":
    main()
