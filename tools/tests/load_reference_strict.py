#!/usr/bin/env python3
"""Test: load actor_<epoch>.pth and critic_<epoch>.pth with torch.load (weights_only) into the
reference's Diffusion and Critic modules (tools/compare_pytorch.py rebuilds them) with
load_state_dict(strict=True), and check the loaded schedule buffers against the ones the module
computes itself (VP schedule).

    load_reference_strict.py ACTOR.pth CRITIC.pth STATE_DIM ACTION_DIM WIDTH STEPS
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import torch  # noqa: E402
from compare_pytorch import reference_modules  # noqa: E402

actor_path, critic_path = sys.argv[1], sys.argv[2]
state_dim, action_dim, width, steps = (int(value) for value in sys.argv[3:7])
Diffusion, Critic = reference_modules(torch, state_dim, action_dim, width, steps)
actor, critic = Diffusion(), Critic()
computed = {name: buffer.clone() for name, buffer in actor.named_buffers()}
actor.load_state_dict(torch.load(actor_path, weights_only=True), strict=True)
critic.load_state_dict(torch.load(critic_path, weights_only=True), strict=True)
for name, buffer in actor.named_buffers():
    if not torch.allclose(buffer, computed[name], rtol=1e-5, atol=1e-6):
        sys.exit(f"{actor_path}: buffer {name} is {buffer.tolist()}, the reference computes {computed[name].tolist()}")
print(f"loaded strictly: {actor_path} ({len(actor.state_dict())} tensors), {critic_path} ({len(critic.state_dict())})")
