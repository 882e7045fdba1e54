#!/usr/bin/env python3
"""Test fixture: write state_dicts in torch.save's zip format without PyTorch.

Reads a JSON file {"actor_<epoch>.pth": {"name": [shape, values], ...}, ...} and writes each entry as a
.pth file into the output folder, the way torch.save lays one out: archive/data.pkl (pickle protocol
2 whose tensors are torch._utils._rebuild_tensor_v2 over persistent storage ids), archive/data/<key>
(raw little-endian float32 storages), archive/version and archive/byteorder.
"""
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile
from collections import OrderedDict

# Stand-ins named as torch's, so the pickle refers to torch._utils._rebuild_tensor_v2 and torch.FloatStorage.
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")


def _rebuild_tensor_v2(*args):
    raise RuntimeError("only pickled, never called")


class FloatStorage:
    pass


_rebuild_tensor_v2.__module__ = "torch._utils"
FloatStorage.__module__ = "torch"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
torch.FloatStorage = FloatStorage
torch._utils = torch_utils
sys.modules["torch"], sys.modules["torch._utils"] = torch, torch_utils


class StoredTensor:
    def __init__(self, key, shape, count):
        self.key, self.shape, self.count = key, shape, count

    def __reduce__(self):
        stride, step = [], 1
        for dimension in reversed(self.shape):
            stride.insert(0, step)
            step *= dimension
        storage = ("storage", self.key, self.count)
        return (_rebuild_tensor_v2, (storage, 0, tuple(self.shape), tuple(stride), False, OrderedDict()))


class TorchLikePickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, tuple) and len(obj) == 3 and obj[0] == "storage":
            return ("storage", FloatStorage, obj[1], "cpu", obj[2])
        return None


def write_pth(path, tensors):
    state, storages = OrderedDict(), []
    for index, (name, (shape, values)) in enumerate(tensors.items()):
        state[name] = StoredTensor(str(index), shape, len(values))
        storages.append((str(index), struct.pack(f"<{len(values)}f", *values)))
    buffer = io.BytesIO()
    TorchLikePickler(buffer, protocol=2).dump(state)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        for key, data in storages:
            archive.writestr(f"archive/data/{key}", data)
        archive.writestr("archive/version", "3\n")
        archive.writestr("archive/byteorder", "little")


if __name__ == "__main__":
    spec_path, folder = sys.argv[1], sys.argv[2]
    with open(spec_path) as spec:
        files = json.load(spec, object_pairs_hook=OrderedDict)
    for name, tensors in files.items():
        write_pth(os.path.join(folder, name), tensors)
