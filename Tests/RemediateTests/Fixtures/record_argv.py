#!/usr/bin/python3
"""An exec action's program for the tests: appends its arguments and environment as one JSON
line to the file named by its first argument, then exits with status 0. With VIGIL_TEST_EXEC_SLEEP_MS it first sleeps that long (a
program that takes a while, for the crash test to kill its job in the middle of)."""
import json, os, sys, time
time.sleep(int(os.environ.get("VIGIL_TEST_EXEC_SLEEP_MS", "0")) / 1000)
with open(sys.argv[1], "a") as f:
    f.write(json.dumps({"argv": sys.argv[2:], "env": dict(os.environ)}) + "\n")
    f.flush()
    os.fsync(f.fileno())
