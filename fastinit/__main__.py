"""``python -m fastinit``: the ``fastinit`` command (:mod:`fastinit.cli`)."""
from .cli import run

if __name__ == "__main__":
    run()
