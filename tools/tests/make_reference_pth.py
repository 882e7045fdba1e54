#!/usr/bin/env python3
"""Test fixture: write state_dicts in torch.save's zip format without PyTorch.

Reads a JSON file {"actor_<epoch>.pth": {"name": [shape, values], ...}, ...} and writes each entry as a
.pth file into the output folder with the exporter's writer (tools/export_reference_checkpoint.py).
"""
import json
import os
import struct
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from export_reference_checkpoint import write_pth  # noqa: E402

if __name__ == "__main__":
    spec_path, folder = sys.argv[1], sys.argv[2]
    with open(spec_path) as spec:
        files = json.load(spec, object_pairs_hook=OrderedDict)
    for name, tensors in files.items():
        write_pth(os.path.join(folder, name), [(key, (shape, struct.pack(f"<{len(values)}f", *values)))
                                               for key, (shape, values) in tensors.items()])
