"""Parses message contents with Drain3, the reference the Loghub benchmark compares Vigil to.

usage: drain3_parse.py INPUT_DIR OUTPUT.json
INPUT_DIR holds, per dataset, <name>.contents (one message content per line, as Vigil's
harness extracted it with the dataset's log_format) and <name>.settings.json (Loghub's
settings: regex, st, depth). For each dataset this writes every line's cluster id and its
cluster's final template, and the seconds Drain3 spent mining (masking included; reading
the file is not timed).
"""
import json
import os
import sys
import time

from drain3 import TemplateMiner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig


def parse(contents, settings):
    config = TemplateMinerConfig()
    config.drain_sim_th = settings["st"]
    config.drain_depth = settings["depth"]
    config.masking_instructions = [MaskingInstruction(r, "*") for r in settings["regex"]]
    config.mask_prefix = "<"
    config.mask_suffix = ">"
    config.profiling_enabled = False
    miner = TemplateMiner(config=config)
    started = time.perf_counter()
    cluster_ids = [miner.add_log_message(c)["cluster_id"] for c in contents]
    seconds = time.perf_counter() - started
    templates = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return [templates[i] for i in cluster_ids], cluster_ids, seconds


def main():
    input_dir, output = sys.argv[1], sys.argv[2]
    results = {}
    for name in sorted(f[: -len(".contents")] for f in os.listdir(input_dir) if f.endswith(".contents")):
        with open(os.path.join(input_dir, name + ".contents"), encoding="utf-8") as f:
            contents = f.read().split("\n")[:-1]
        with open(os.path.join(input_dir, name + ".settings.json"), encoding="utf-8") as f:
            settings = json.load(f)
        repeats = int(os.environ.get("DRAIN3_REPEATS", "3"))
        runs = [parse(contents, settings) for _ in range(repeats)]
        seconds = sorted(r[2] for r in runs)[len(runs) // 2]
        results[name] = {"templates": runs[0][0], "clusters": runs[0][1], "seconds": seconds}
    with open(output, "w", encoding="utf-8") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
