#!/usr/bin/env python3
"""Convert the PyTorch reference's actor_<epoch>.pth and critic_<epoch>.pth into one checkpoint file
that `rollout --ckpt FILE` evaluates.

The reference (Zhendong-Wang/Diffusion-Policies-for-Offline-RL) saves the actor's and the critic's
state_dicts only. Their names already match this project's, so the tensors go under `actor.` and
`critic.` unchanged; the loader lets the actor stand in for the missing EMA actor and the critic for
the missing target critic, and says so.

Only the standard library is needed: a .pth file is a zip holding a pickle whose tensors point at raw
little-endian storages beside it, and safetensors is a JSON header before raw bytes.

    tools/convert_reference_checkpoint.py --actor actor_1000.pth --critic critic_1000.pth \\
        --task hopper-medium-v2 --epoch 1000 --out checkpoints/reference-hopper/epoch_1000.safetensors
"""
import argparse
import json
import os
import pickle
import struct
import sys
import tempfile
import zipfile
from collections import OrderedDict

FORMAT = "diffusion-ql-reference/pytorch"
STORAGE_TYPES = {"FloatStorage": ("f", 4), "DoubleStorage": ("d", 8), "HalfStorage": ("e", 2)}


class ConversionError(Exception):
    pass


class Tensor:
    """A tensor as the pickle describes it: a view of a storage."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def rebuild_tensor(storage, storage_offset, size, stride, *unused):
    return Tensor(storage, storage_offset, size, stride)


class StateDictUnpickler(pickle.Unpickler):
    """Resolves only what a state_dict of float tensors needs, so a .pth cannot run other code."""

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return rebuild_tensor
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch" and name in STORAGE_TYPES:
            return name
        raise pickle.UnpicklingError(f"unexpected object {module}.{name} in a state_dict")

    def persistent_load(self, pid):
        kind, storage_type, key = pid[0], pid[1], pid[2]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        if storage_type not in STORAGE_TYPES:
            raise pickle.UnpicklingError(f"tensors of {storage_type} cannot be converted to float32")
        return (storage_type, key)


def contiguous_stride(shape):
    """The stride of a row-major tensor of this shape, as torch stores a contiguous one."""
    stride, step = [], 1
    for dimension in reversed(shape):
        stride.insert(0, step)
        step *= dimension
    return tuple(stride)


def write_atomically(path, write):
    """Calls write(file) on a temporary file beside `path`, then renames it into place, so that an
    interrupted run leaves the old file or none, never a partial one."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-")
    umask = os.umask(0)
    os.umask(umask)
    try:
        # mkstemp makes the file private (0600); give it the mode an ordinary open would.
        os.chmod(temporary, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as out:
            write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def read_state_dict(path):
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise ConversionError(f"{path}: not a PyTorch zip checkpoint ({error})")
    with archive:
        names = archive.namelist()
        pickles = [name for name in names if name.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise ConversionError(f"{path}: expected one data.pkl in the archive, found {len(pickles)}")
        root = pickles[0][: -len("data.pkl")]
        try:
            state = StateDictUnpickler(archive.open(pickles[0])).load()
        except pickle.UnpicklingError as error:
            raise ConversionError(f"{path}: {error}")
        if not isinstance(state, dict):
            raise ConversionError(f"{path}: holds a {type(state).__name__}, not a state_dict")
        tensors = OrderedDict()
        for name, tensor in state.items():
            if not isinstance(tensor, Tensor):
                raise ConversionError(f"{path}: entry '{name}' is not a tensor")
            (storage_type, key) = tensor.storage
            code, width = STORAGE_TYPES[storage_type]
            raw = archive.read(f"{root}data/{key}")
            count = 1
            for dimension in tensor.size:
                count *= dimension
            if count > 1 and contiguous_stride(tensor.size) != tensor.stride:
                raise ConversionError(f"{path}: tensor '{name}' is not contiguous (stride {tensor.stride})")
            start = tensor.offset * width
            if start + count * width > len(raw):
                raise ConversionError(f"{path}: tensor '{name}' runs past its storage (truncated file?)")
            values = struct.unpack_from(f"<{count}{code}", raw, start)
            tensors[name] = (list(tensor.size), values)
        return tensors


def write_safetensors(tensors, metadata, path):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        shape, values = tensors[name]
        data = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)

    def write(out):
        out.write(struct.pack("<Q", len(encoded)) + encoded)
        for chunk in chunks:
            out.write(chunk)
    write_atomically(path, write)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actor", required=True, help="the reference's actor_<epoch>.pth")
    parser.add_argument("--critic", required=True, help="the reference's critic_<epoch>.pth")
    parser.add_argument("--task", required=True, help="D4RL task the run trained on, e.g. hopper-medium-v2")
    parser.add_argument("--epoch", required=True, type=int, help="the epoch in the file names")
    parser.add_argument("--out", required=True, help="checkpoint file to write (safetensors)")
    args = parser.parse_args(argv)
    try:
        tensors = OrderedDict()
        for prefix, path in (("actor.", args.actor), ("critic.", args.critic)):
            for name, tensor in read_state_dict(path).items():
                tensors[prefix + name] = tensor
        for required in ("actor.model.final_layer.weight", "actor.betas", "critic.q1_model.0.weight"):
            if required not in tensors:
                raise ConversionError(f"no tensor '{required}': is this the reference's Diffusion-QL actor and critic?")
        metadata = {"format": FORMAT, "task": args.task, "epoch": str(args.epoch),
                    "source": f"{os.path.basename(args.actor)} + {os.path.basename(args.critic)}"}
        write_safetensors(tensors, metadata, args.out)
    except ConversionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {len(tensors)} tensors from {args.actor} and {args.critic}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
