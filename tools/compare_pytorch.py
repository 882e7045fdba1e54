#!/usr/bin/env python3
"""Times Diffusion-QL in PyTorch on the CPU, the reference implementation's way, beside this project.

The reference's networks and calls (Wang, Hunt and Zhou's Diffusion-Policies-for-Offline-RL:
agents/model.py, agents/diffusion.py, agents/ql_diffusion.py): hopper's dimensions (state 11,
action 3), hidden width 256, N = 5 with the VP schedule, a training step on a batch of 256 (critic,
then actor through the whole chain, EMA, target update), and the acting rule on one state and on ten
(50 candidates each, scored by the target critic's q_min, one drawn from softmax). The same calls of
this project come from `bench train` and `bench act` (release build) at the same thread counts, and
the script prints each ratio, PyTorch's time over this project's.

    tools/compare_pytorch.py [--bench PATH] [--threads 1,2] [--install]

--install lets pip install torch when it is missing (the CPU wheel from PyTorch's index, or PyPI's
default wheel where only PyPI is reachable); otherwise the script says so and stops. --bench is the bench executable (default: build it with `swift build -c release`).
"""

import argparse
import importlib
import math
import os
import re
import statistics
import subprocess
import sys
import time

STATE, ACTION, WIDTH, STEPS, BATCH, CANDIDATES = 11, 3, 256, 5, 256, 50


def require_torch(install):
    try:
        return importlib.import_module("torch")
    except ImportError:
        if not install:
            sys.exit("compare_pytorch: torch is not installed; run with --install to pip-install the CPU wheel")
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "torch"]
        if subprocess.call(pip + ["--index-url", "https://download.pytorch.org/whl/cpu"]) != 0:
            # Where only PyPI is reachable: its default wheel, which brings CUDA's libraries too
            # (a few GB) but runs on the CPU.
            print("compare_pytorch: PyTorch's CPU index is out of reach; installing PyPI's default wheel",
                  file=sys.stderr)
            subprocess.check_call(pip)
        return importlib.import_module("torch")


def reference_modules(torch, state_dim=STATE, action_dim=ACTION, width=WIDTH, steps=STEPS):
    """The reference's Diffusion (with its MLP and every buffer it registers, VP schedule) and Critic
    classes at these dimensions; their state_dicts have the reference's names, order and shapes."""
    nn, F = torch.nn, torch.nn.functional

    class SinusoidalPosEmb(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.dim = dim

        def forward(self, x):
            half = self.dim // 2
            emb = math.log(10000) / (half - 1)
            emb = torch.exp(torch.arange(half) * -emb)
            emb = x[:, None] * emb[None, :]
            return torch.cat((emb.sin(), emb.cos()), dim=-1)

    class MLP(nn.Module):
        def __init__(self, t_dim=16):
            super().__init__()
            self.time_mlp = nn.Sequential(SinusoidalPosEmb(t_dim), nn.Linear(t_dim, t_dim * 2), nn.Mish(),
                                          nn.Linear(t_dim * 2, t_dim))
            self.mid_layer = nn.Sequential(nn.Linear(state_dim + action_dim + t_dim, width), nn.Mish(), nn.Linear(width, width),
                                           nn.Mish(), nn.Linear(width, width), nn.Mish())
            self.final_layer = nn.Linear(width, action_dim)

        def forward(self, x, time, state):
            return self.final_layer(self.mid_layer(torch.cat([x, self.time_mlp(time), state], dim=1)))

    def vp_beta_schedule(timesteps):
        t = torch.arange(1, timesteps + 1, dtype=torch.float64)
        b_max, b_min, big_t = 10.0, 0.1, timesteps
        alpha = torch.exp(-b_min / big_t - 0.5 * (b_max - b_min) * (2 * t - 1) / big_t ** 2)
        return (1 - alpha).float()

    class Diffusion(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = MLP()
            betas = vp_beta_schedule(steps)
            alphas = 1.0 - betas
            cumprod = torch.cumprod(alphas, dim=0)
            previous = torch.cat([torch.ones(1), cumprod[:-1]])
            self.register_buffer("betas", betas)
            self.register_buffer("alphas_cumprod", cumprod)
            self.register_buffer("alphas_cumprod_prev", previous)
            self.register_buffer("sqrt_alphas_cumprod", torch.sqrt(cumprod))
            self.register_buffer("sqrt_one_minus_alphas_cumprod", torch.sqrt(1.0 - cumprod))
            self.register_buffer("log_one_minus_alphas_cumprod", torch.log(1.0 - cumprod))
            self.register_buffer("sqrt_recip_alphas_cumprod", torch.sqrt(1.0 / cumprod))
            self.register_buffer("sqrt_recipm1_alphas_cumprod", torch.sqrt(1.0 / cumprod - 1))
            variance = betas * (1.0 - previous) / (1.0 - cumprod)
            self.register_buffer("posterior_variance", variance)
            self.register_buffer("posterior_log_variance_clipped", torch.log(torch.clamp(variance, min=1e-20)))
            self.register_buffer("posterior_mean_coef1", betas * torch.sqrt(previous) / (1.0 - cumprod))
            self.register_buffer("posterior_mean_coef2", (1.0 - previous) * torch.sqrt(alphas) / (1.0 - cumprod))

        @staticmethod
        def extract(a, t, shape):
            return a.gather(-1, t).reshape(shape[0], *((1,) * (len(shape) - 1)))

        def p_sample(self, x, t, s):
            x_recon = (self.extract(self.sqrt_recip_alphas_cumprod, t, x.shape) * x
                       - self.extract(self.sqrt_recipm1_alphas_cumprod, t, x.shape) * self.model(x, t, s))
            x_recon.clamp_(-1.0, 1.0)
            mean = (self.extract(self.posterior_mean_coef1, t, x.shape) * x_recon
                    + self.extract(self.posterior_mean_coef2, t, x.shape) * x)
            log_variance = self.extract(self.posterior_log_variance_clipped, t, x.shape)
            nonzero = (1 - (t == 0).float()).reshape(x.shape[0], 1)
            return mean + nonzero * (0.5 * log_variance).exp() * torch.randn_like(x)

        def sample(self, state):
            x = torch.randn(state.shape[0], action_dim)
            for i in reversed(range(steps)):
                x = self.p_sample(x, torch.full((state.shape[0],), i, dtype=torch.long), state)
            return x.clamp_(-1.0, 1.0)

        def loss(self, x_start, state):
            t = torch.randint(0, steps, (x_start.shape[0],)).long()
            noise = torch.randn_like(x_start)
            x_noisy = (self.extract(self.sqrt_alphas_cumprod, t, x_start.shape) * x_start
                       + self.extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise)
            return F.mse_loss(self.model(x_noisy, t, state), noise)

        def forward(self, state):
            return self.sample(state)

    class Critic(nn.Module):
        def __init__(self):
            super().__init__()

            def q():
                return nn.Sequential(nn.Linear(state_dim + action_dim, width), nn.Mish(), nn.Linear(width, width), nn.Mish(),
                                     nn.Linear(width, width), nn.Mish(), nn.Linear(width, 1))
            self.q1_model, self.q2_model = q(), q()

        def forward(self, state, action):
            x = torch.cat([state, action], dim=-1)
            return self.q1_model(x), self.q2_model(x)

        def q_min(self, state, action):
            q1, q2 = self.forward(state, action)
            return torch.min(q1, q2)

    return Diffusion, Critic


def time_pytorch(torch, threads, repeats_train=20, repeats_act=100):
    """Median milliseconds of a training step, and of acting for 1 and 10 states, on `threads` threads."""
    import copy
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    F = torch.nn.functional
    Diffusion, Critic = reference_modules(torch)
    actor, critic = Diffusion(), Critic()
    ema, critic_target = copy.deepcopy(actor), copy.deepcopy(critic)
    actor_optimizer = torch.optim.Adam(actor.parameters(), lr=3e-4)
    critic_optimizer = torch.optim.Adam(critic.parameters(), lr=3e-4)
    state, action, next_state = torch.randn(BATCH, STATE), torch.rand(BATCH, ACTION) * 2 - 1, torch.randn(BATCH, STATE)
    reward, not_done = torch.randn(BATCH, 1), torch.ones(BATCH, 1)

    def train_step(step):
        current_q1, current_q2 = critic(state, action)
        next_action = ema(next_state)
        target_q1, target_q2 = critic_target(next_state, next_action)
        target_q = (reward + not_done * 0.99 * torch.min(target_q1, target_q2)).detach()
        critic_loss = F.mse_loss(current_q1, target_q) + F.mse_loss(current_q2, target_q)
        critic_optimizer.zero_grad()
        critic_loss.backward()
        torch.nn.utils.clip_grad_norm_(critic.parameters(), max_norm=9)
        critic_optimizer.step()
        bc_loss = actor.loss(action, state)
        q1_new, q2_new = critic(state, actor(state))
        q_loss = -q1_new.mean() / q2_new.abs().mean().detach()
        actor_optimizer.zero_grad()
        (bc_loss + 1.0 * q_loss).backward()
        torch.nn.utils.clip_grad_norm_(actor.parameters(), max_norm=9)
        actor_optimizer.step()
        with torch.no_grad():
            if step % 5 == 0:
                for p, e in zip(actor.parameters(), ema.parameters()):
                    e.data.mul_(0.995).add_(p.data, alpha=0.005)
            for p, t in zip(critic.parameters(), critic_target.parameters()):
                t.data.copy_(0.005 * p.data + 0.995 * t.data)

    def act(states):
        state_rpt = torch.repeat_interleave(torch.randn(states, STATE), repeats=CANDIDATES, dim=0)
        with torch.no_grad():
            actions = actor.sample(state_rpt)
            q = critic_target.q_min(state_rpt, actions).reshape(states, CANDIDATES)
            return torch.multinomial(F.softmax(q, dim=1), 1)

    def median_ms(call, repeats):
        for _ in range(3):
            call()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append(1000 * (time.perf_counter() - start))
        return statistics.median(times)

    step = [0]

    def one_train_step():
        step[0] += 1
        train_step(step[0])

    return {"train step": median_ms(one_train_step, repeats_train),
            "act (1 × 50 candidates)": median_ms(lambda: act(1), repeats_act),
            "act (10 × 50 candidates)": median_ms(lambda: act(10), repeats_act // 4)}


def time_project(bench, threads):
    """The same calls' medians from `bench train` and `bench act`."""
    figures = {}
    for command in (["train", "--repeats", "20"], ["act", "--states", "1,10", "--repeats", "200"]):
        output = subprocess.run([bench] + command + ["--threads", str(threads)], check=True, capture_output=True,
                                text=True).stdout
        for line in output.splitlines():
            match = re.match(r"^(train step|act \(\d+ × 50 candidates\))\s+([\d.]+)", line)
            if match:
                figures[match.group(1)] = float(match.group(2))
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench", help="the bench executable (default: build it with swift build -c release)")
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated (default 1,2)")
    parser.add_argument("--install", action="store_true", help="pip-install torch's CPU wheel when it is missing")
    arguments = parser.parse_args()
    try:
        thread_counts = [int(t) for t in arguments.threads.split(",")]
        assert all(t >= 1 for t in thread_counts)
    except (ValueError, AssertionError):
        sys.exit(f"compare_pytorch: --threads must list positive counts, e.g. 1,2 (got {arguments.threads})")
    torch = require_torch(arguments.install)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bench = arguments.bench
    if bench is None:
        subprocess.run(["swift", "build", "-c", "release", "--product", "bench"], cwd=root, check=True,
                       stdout=subprocess.DEVNULL)
        bench = os.path.join(root, ".build", "release", "bench")
    if not os.access(bench, os.X_OK):
        sys.exit(f"compare_pytorch: {bench} is not an executable")

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"PyTorch {torch.__version__} against this project, {cpu}; median milliseconds, ratio = PyTorch / this project")
    print(f"{'call':<28}{'threads':>8}{'PyTorch':>10}{'project':>10}{'ratio':>8}")
    for threads in thread_counts:
        reference, project = time_pytorch(torch, threads), time_project(bench, threads)
        for call, milliseconds in reference.items():
            ours = project.get(call, float("nan"))
            print(f"{call:<28}{threads:>8}{milliseconds:>10.2f}{ours:>10.2f}{milliseconds / ours:>7.1f}x")


if __name__ == "__main__":
    main()
