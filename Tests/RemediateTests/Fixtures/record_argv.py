#!/usr/bin/python3
"""An exec action's program for the tests: appends its arguments and environment as one JSON
line to the file named by its first argument, then exits with status 0."""
import json, os, sys
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({"argv": sys.argv[2:], "env": dict(os.environ)}) + "\n")
    f.flush()
    os.fsync(f.fileno())
