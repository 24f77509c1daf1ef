"""paichan's HTTP service (FastAPI); built on :mod:`solver`, never imported by it."""
