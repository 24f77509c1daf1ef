"""``python -m solver`` runs the ``paichan`` command line."""

from solver.cli import run

run()
