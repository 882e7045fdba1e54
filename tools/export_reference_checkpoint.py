#!/usr/bin/env python3
"""Export one of this project's checkpoints as the PyTorch reference's actor_<epoch>.pth and
critic_<epoch>.pth, which the reference's Diffusion and Critic modules load with
load_state_dict(strict=True).

The reference saves two networks where a checkpoint holds four, so one actor and one critic are
chosen. The defaults are what the reference's evaluation acts with (Diffusion_QL.sample_action: the
online actor's candidates scored by the target critic), which is also what `rollout` does; and since
tools/convert_reference_checkpoint.py reads the two files back with the actor standing in for the EMA
actor and the critic for the target critic, `rollout` of the converted file acts exactly as `rollout`
of the original. `--actor ema` and `--critic online` export the other two.

Only the standard library is needed: safetensors is a JSON header before raw little-endian bytes, and
torch.save's format is a zip holding a pickle whose tensors point at raw storages beside it; the
pickle refers to torch's classes by name only, so torch is not imported.

    tools/export_reference_checkpoint.py --ckpt checkpoints/run7/epoch_0200.safetensors --out exported/
    tools/export_reference_checkpoint.py --ckpt FILE --out FOLDER [--actor online|ema] [--critic target|online]
"""
import argparse
import io
import json
import os
import struct
import sys
import zipfile

from convert_reference_checkpoint import FORMAT as REFERENCE_FORMAT, contiguous_stride, write_atomically

FORMAT = "swift-diffusion-ql/checkpoint-v1"

# The reference's state_dict names in its modules' order (buffers, then the MLP's layers; q1 then q2).
SCHEDULE_BUFFERS = ["betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod",
                    "sqrt_one_minus_alphas_cumprod", "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod",
                    "sqrt_recipm1_alphas_cumprod", "posterior_variance", "posterior_log_variance_clipped",
                    "posterior_mean_coef1", "posterior_mean_coef2"]
ACTOR_LAYERS = [f"model.{layer}.{kind}" for layer in ("time_mlp.1", "time_mlp.3", "mid_layer.0", "mid_layer.2",
                                                      "mid_layer.4", "final_layer") for kind in ("weight", "bias")]
CRITIC_LAYERS = [f"{q}.{index}.{kind}" for q in ("q1_model", "q2_model") for index in (0, 2, 4, 6)
                 for kind in ("weight", "bias")]


class ExportError(Exception):
    pass


def read_safetensors(path):
    """The file's metadata and {name: (shape, raw little-endian float32 bytes)}."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise ExportError(f"{path}: cannot be read ({error.strerror})")
    if len(data) < 8:
        raise ExportError(f"{path}: not a safetensors file ({len(data)} bytes)")
    (length,) = struct.unpack_from("<Q", data)
    if 8 + length > len(data):
        raise ExportError(f"{path}: not a safetensors file (header of {length} bytes in a file of {len(data)})")
    try:
        header = json.loads(data[8:8 + length])
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExportError(f"{path}: not a safetensors file (header: {error})")
    if not isinstance(header, dict):
        raise ExportError(f"{path}: not a safetensors file (the header is not an object)")
    metadata, body, tensors = header.pop("__metadata__", {}), data[8 + length:], {}
    if not isinstance(metadata, dict) or not all(isinstance(value, str) for value in metadata.values()):
        raise ExportError(f"{path}: not a safetensors file (its __metadata__ is not a map of strings)")
    for name, entry in header.items():
        try:
            dtype, shape, (begin, end) = entry["dtype"], list(entry["shape"]), entry["data_offsets"]
            if not all(isinstance(number, int) and number >= 0 for number in shape + [begin, end]):
                raise ValueError
        except (TypeError, KeyError, ValueError):
            raise ExportError(f"{path}: tensor '{name}' has a malformed header entry")
        if dtype != "F32":
            raise ExportError(f"{path}: tensor '{name}' is {dtype}; the reference's tensors are float32 (F32)")
        count = 1
        for dimension in shape:
            count *= dimension
        if not 0 <= begin <= end <= len(body) or end - begin != 4 * count:
            raise ExportError(f"{path}: tensor '{name}' at bytes {begin}..{end} does not fit shape {shape} in "
                              f"{len(body)} bytes of data (truncated file?)")
        tensors[name] = (shape, body[begin:end])
    return metadata, tensors


def state_dict(path, tensors, prefix, names):
    """The tensors under `prefix` by the reference's names, in order; refuses missing or extra ones, so
    that what is written loads strictly."""
    state = []
    for name in names:
        if prefix + name not in tensors:
            raise ExportError(f"{path}: no tensor '{prefix + name}'")
        state.append((name, tensors[prefix + name]))
    extra = sorted(key for key in tensors if key.startswith(prefix) and key[len(prefix):] not in names)
    if extra:
        raise ExportError(f"{path}: tensor '{extra[0]}' is not in the reference's {prefix.rstrip('.')} module")
    return state


def pickled_state_dict(state):
    """torch.save's data.pkl (protocol 2) of an OrderedDict of contiguous float32 tensors, storage i
    holding the i-th: the opcodes torch writes, so that torch.load(weights_only=True) accepts it."""
    def text(value):
        encoded = value.encode()
        return b"X" + struct.pack("<I", len(encoded)) + encoded

    def integer(value):
        if value < 2 ** 31:
            return b"J" + struct.pack("<i", value)
        encoded = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
        return b"\x8a" + bytes([len(encoded)]) + encoded

    def integers(values):
        return b"(" + b"".join(integer(value) for value in values) + b"t"

    def global_(module, name):
        return b"c" + f"{module}\n{name}\n".encode()

    empty_ordered_dict = global_("collections", "OrderedDict") + b")R"
    out = io.BytesIO()
    out.write(b"\x80\x02" + empty_ordered_dict + b"(")
    for key, (name, (shape, raw)) in enumerate(state):
        storage = (b"(" + text("storage") + global_("torch", "FloatStorage") + text(str(key)) + text("cpu")
                   + integer(len(raw) // 4) + b"tQ")
        # _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks)
        out.write(text(name) + global_("torch._utils", "_rebuild_tensor_v2") + b"(" + storage + integer(0)
                  + integers(shape) + integers(contiguous_stride(shape)) + b"\x89" + empty_ordered_dict + b"tR")
    out.write(b"u.")
    return out.getvalue()


def write_pth(path, state):
    """Writes [(name, (shape, raw float32 bytes))] as torch.save lays a state_dict out: the archive
    named after the file holds data.pkl, byteorder, data/<storage> and version."""
    archive_name = os.path.splitext(os.path.basename(path))[0]

    def write(out):
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(f"{archive_name}/data.pkl", pickled_state_dict(state))
            archive.writestr(f"{archive_name}/byteorder", "little")
            for key, (_, (_, raw)) in enumerate(state):
                archive.writestr(f"{archive_name}/data/{key}", raw)
            archive.writestr(f"{archive_name}/version", "3\n")
    write_atomically(path, write)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", required=True, help="checkpoint file (safetensors) of this project")
    parser.add_argument("--out", required=True, help="folder for actor_<epoch>.pth and critic_<epoch>.pth")
    parser.add_argument("--actor", choices=("online", "ema"), default="online",
                        help="the online actor (default: the one the reference evaluates and saves) or the EMA actor")
    parser.add_argument("--critic", choices=("target", "online"), default="target",
                        help="the target critic (default: the one the reference scores candidates with) or the online one")
    args = parser.parse_args(argv)
    try:
        metadata, tensors = read_safetensors(args.ckpt)
        if metadata.get("format") not in (FORMAT, REFERENCE_FORMAT):
            raise ExportError(f"{args.ckpt}: not a Diffusion-QL checkpoint of this project (format "
                              f"{metadata.get('format')!r})")
        epoch = metadata.get("epoch", "")
        if not epoch.isdigit():
            raise ExportError(f"{args.ckpt}: metadata 'epoch' missing or not a number")
        actor = "ema_actor." if args.actor == "ema" else "actor."
        critic = "critic_target." if args.critic == "target" else "critic."
        notes = []
        if metadata["format"] == REFERENCE_FORMAT:
            # A converted reference checkpoint has no EMA actor or target critic; as when `rollout`
            # loads it, the actor and the critic stand in for them.
            for chosen, stand_in in ((actor, "actor."), (critic, "critic.")):
                if chosen != stand_in:
                    notes.append(f"{args.ckpt} has no {chosen.rstrip('.')} (the reference saves none); "
                                 f"the {stand_in.rstrip('.')} stands in for it")
            actor, critic = "actor.", "critic."
        if not any(actor + name in tensors for name in SCHEDULE_BUFFERS):
            # Checkpoints written before the EMA actor carried its schedule buffers (run7) hold them
            # under `actor.` only; both policies follow the one configuration's schedule.
            tensors.update({actor + name: tensors["actor." + name] for name in SCHEDULE_BUFFERS if "actor." + name in tensors})
        actor_state = state_dict(args.ckpt, tensors, actor, SCHEDULE_BUFFERS + ACTOR_LAYERS)
        critic_state = state_dict(args.ckpt, tensors, critic, CRITIC_LAYERS)
        paths = [os.path.join(args.out, f"{kind}_{int(epoch)}.pth") for kind in ("actor", "critic")]
        write_pth(paths[0], actor_state)
        write_pth(paths[1], critic_state)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {paths[0]} ({actor.rstrip('.')}) and {paths[1]} ({critic.rstrip('.')}) from {args.ckpt}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
