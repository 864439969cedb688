"""A pretraining loop killed while it writes a checkpoint resumes from a whole one (weights and state of one step)."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import torch
from safetensors.torch import load_file

# A tiny loop in its own process; `save_weights` SIGKILLs the process right after writing the weights of the
# second checkpoint, before the loop writes that checkpoint's optimizer/step state.
SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import torch
    from safetensors.torch import save_file, load_file
    from v2l.training.loop import LoopConfig, run_loop

    out, kill_at = Path(sys.argv[1]), int(sys.argv[2])
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.zeros(4))
    saves = []

    def step_fn(step):
        loss = ((w - float(step + 1)) ** 2).sum()
        loss.backward()
        return {"loss": float(loss)}

    def save_weights(folder):
        save_file({"w": w.detach().clone()}, str(folder / "w.safetensors"))
        saves.append(1)
        if len(saves) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def load_weights(folder):
        with torch.no_grad():
            w.copy_(load_file(str(folder / "w.safetensors"))["w"])

    cfg = LoopConfig(minutes=10, max_steps=int(sys.argv[3]), lr=0.1, warmup_steps=1, log_every=1, threads=1,
                     checkpoint_every_s=0.0)
    result = run_loop(out, cfg, [w], step_fn, save_weights, load_weights)
    print("STEPS", result["steps"], w.tolist())
""")


def _run(out, kill_at, max_steps):
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out), str(kill_at), str(max_steps)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


def test_kill_between_weights_and_state_leaves_the_previous_checkpoint_whole(tmp_path):
    from v2l.training.loop import latest_checkpoint_dir

    killed = _run(tmp_path, kill_at=2, max_steps=5)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    ckpt = latest_checkpoint_dir(tmp_path)
    # The first checkpoint (after step 1) is the newest complete one; the torn second one is not visible.
    assert ckpt is not None and ckpt.name == "step-00000001"
    state = torch.load(ckpt / "state.pt", weights_only=True)
    weights = load_file(str(ckpt / "w.safetensors"))["w"]
    assert state["step"] == 1
    # Weights and optimizer state belong to the same step: Adam's first moment matches one gradient of step 0.
    exp_avg = state["optimizer"]["state"][0]["exp_avg"]
    assert torch.allclose(exp_avg, 0.1 * 2 * (torch.zeros(4) - 1.0))
    # One Adam step of lr 0.1 from 0 towards 1 moves every weight to 0.1 (a torn write would hold step 2's 0.2).
    assert torch.allclose(weights, torch.full((4,), 0.1), atol=1e-4)
    # A resumed run finishes exactly as an uninterrupted one.
    resumed = _run(tmp_path, kill_at=0, max_steps=5)
    straight = _run(tmp_path / "straight", kill_at=0, max_steps=5)
    assert resumed.returncode == 0 and straight.returncode == 0, resumed.stderr + straight.stderr
    assert resumed.stdout.split("STEPS")[1] == straight.stdout.split("STEPS")[1]
    assert not list(tmp_path.glob("checkpoints/.tmp-*"))
    assert len(list((tmp_path / "checkpoints").glob("step-*"))) == 2  # keep_last
    assert json.loads((tmp_path / "history.json").read_text())[-1]["step"] == 5
