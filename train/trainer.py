"""The training loop, top to bottom: data, model, optimiser, epochs, validation,
checkpoints for resume, curves, and the export of the best model to weights/."""
from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler
from tqdm import tqdm

from colorlab.checkpoints import Colorizer, load_checkpoint, save_checkpoint, sha256_file, training_stages
from colorlab.colorspaces import AB_SCALE, get_space, rgb_to_grey, rgb_to_lab
from colorlab.hints import HINT_CHANNELS, NO_HINTS, simulate, simulate_training
from colorlab.imaging import array_to_tensor, tensor_to_array
from colorlab.losses import chroma_deficit, get_loss
from colorlab.metrics import grey_baseline, summarize
from colorlab.models import create_model, describe
from colorlab.pipeline import guided, network_output, predict
from colorlab.serving.curves import plot_curves

from .config import Config, as_dict
from .data import CropDataset, load_folder, load_folders

VAL_KEYS = ("psnr", "ssim", "ciede2000", "colorfulness", "dcf")


def setup_distributed():
    """Rank, world size and device; initialises the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = "cpu"
    if torch.cuda.is_available():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    if world > 1 and not dist.is_initialized():
        # Long timeout: the other ranks wait while rank 0 validates and exports.
        dist.init_process_group("nccl" if device.startswith("cuda") else "gloo",
                                timeout=datetime.timedelta(hours=6))
    return rank, world, device


def colorize_arrays(model: Colorizer, arrays: list[np.ndarray], hints_for=None):
    """(colorization of each photo's grey version through the real inference path, photo) pairs.
    ``hints_for(photo)`` gives each photo's hints (default: none)."""
    for arr in arrays:
        hints = hints_for(arr) if hints_for else NO_HINTS
        yield tensor_to_array(predict(model, rgb_to_grey(array_to_tensor(arr)), hints=hints)), arr


def evaluate(model: Colorizer, arrays: list[np.ndarray], hints_for=None) -> dict:
    """Val metrics of ``model`` through the real inference path, next to the grey baseline."""
    return summarize(list(colorize_arrays(model, arrays, hints_for)))


# Hint settings a hint-aware model is selected on (mean CIEDE2000 over them): automatic,
# 10 simulated points, the tint alone; seed 0 of ``colorlab.hints.simulate``.
SELECTION_HINTS = {"none": None, "points10": lambda a: simulate(a, 10), "tint": lambda a: simulate(a, 0, tint=True)}


def evaluate_for_selection(model: Colorizer, arrays: list[np.ndarray], hinted: bool) -> dict:
    """``evaluate`` without hints; for a hint-aware model also under SELECTION_HINTS, with
    ``selection_ciede2000`` the mean over them (the number model selection minimises)."""
    val = evaluate(model, arrays)
    if not hinted:
        return val
    runs = {k: (val if fn is None else evaluate(model, arrays, fn)) for k, fn in SELECTION_HINTS.items()}
    val = dict(val, **{f"{k}_ciede2000": r["ciede2000"] for k, r in runs.items() if k != "none"},
               **{f"{k}_psnr": r["psnr"] for k, r in runs.items() if k != "none"})
    val["selection_ciede2000"] = float(np.mean([r["ciede2000"] for r in runs.values()]))
    return val


def init_weights(net, path: str) -> dict:
    """Copy an automatic checkpoint's tensors into ``net`` (a fine-tune's start). Tensors that
    grew (a layer that now also reads the hint channels) keep the old slice; the rest stays 0,
    so the network starts out as the old one. Returns the start's record for the sidecar."""
    start = load_checkpoint(Path(path))
    own, theirs = net.state_dict(), start.net.state_dict()
    for k, v in theirs.items():
        if k not in own:
            raise SystemExit(f"{path}: tensor {k} has no place in {cfg_arch(net)}")
        if own[k].shape == v.shape:
            own[k].copy_(v)
        else:
            own[k].zero_()
            own[k][tuple(slice(0, n) for n in v.shape)].copy_(v)
    # the start's own stages ride along, so the new sidecar keeps the whole training history
    return {"file": str(path), "sha256": sha256_file(Path(path)), "command": start.meta.command,
            "chroma_gain": start.chroma_gain, "hints": start.meta.hints,
            "stages": training_stages(start.meta)}


def cfg_arch(net) -> str:
    return getattr(net, "arch_name", type(net).__name__)


def training_hints(rgb: torch.Tensor, seed: int, step: int, guided: bool = False,
                   p_automatic: float = 0.0) -> torch.Tensor:
    """Hints simulated from the truth for one batch; a pure function of (seed, global step).
    ``guided``: the spread is guided by the photo's L* (``colorlab.hints.spread``).
    ``p_automatic`` in [0, 1]: each sample's hints are then dropped (all maps 0, what the
    network sees without hints) with this probability, drawn after the simulation's own
    draws, so 0 reproduces the earlier runs exactly."""
    lab = rgb_to_lab(rgb)
    ab = (lab[:, 1:] / AB_SCALE).clamp(-1, 1)
    gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
    maps = simulate_training(ab, gen, lightness=lab[:, :1] if guided else None)
    if p_automatic:
        keep = torch.rand(maps.shape[0], generator=gen) >= p_automatic
        maps = maps * keep.view(-1, 1, 1, 1).to(maps)
    return maps


def grey_scores(arrays) -> dict:
    return summarize([(grey_baseline(a), a) for a in arrays])


def lr_at(step: int, total: int, cfg: Config) -> float:
    """Linear warm-up, then cosine decay to 5% of the peak."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def batches(loader, steps: int):
    """``steps`` batches from ``loader``, passing over it again if it is shorter."""
    done = 0
    while done < steps:
        for batch in loader:
            yield batch
            done += 1
            if done >= steps:
                return


def param_digest(net) -> str:
    """sha256 over every parameter (name, shape, float32 bytes), in name order (buffers such as
    BatchNorm running statistics are local to each DDP rank and left out)."""
    h = hashlib.sha256()
    for name, p in sorted(net.named_parameters()):
        t = p.detach().float().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}\0".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def write_digest(cfg: Config, net, rank: int, world: int, losses: list[float]) -> None:
    """This rank's final parameter digest (DDP ranks must agree) and its own last-epoch
    losses (they differ between ranks, which see different data) -> ``cfg.digest_file``."""
    template = cfg.digest_file
    if "{rank}" in template:
        path = Path(template.format(rank=rank))
    else:
        path = Path(template)
        path = path.with_name(f"{path.stem}.rank{rank}{path.suffix}") if world > 1 else path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rank": rank, "world_size": world, "epochs": cfg.epochs,
                                "params_sha256": param_digest(net), "losses": losses}) + "\n")


def _save_state(path: Path, state: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)   # a kill mid-write leaves the previous state intact


def train(cfg: Config, argv: list[str] | None = None) -> dict:
    rank, world, device = setup_distributed()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    main = rank == 0
    space = get_space(cfg.space)
    run_dir = Path(cfg.out_dir) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)

    train_arrays, train_hash, skipped = load_folders(cfg.train_dir, short_side=int(cfg.size * 1.5))
    val_arrays, val_hash, val_skipped = load_folder(cfg.val_dir)
    epoch_val = val_arrays[:cfg.val_limit]    # per-epoch model selection; the export scores all
    if not train_arrays:
        raise SystemExit(f"no readable training images under {cfg.train_dir}")
    if main:
        print(f"[{cfg.name}] {len(train_arrays)} train images ({skipped} skipped), "
              f"{len(val_arrays)} val ({val_skipped} skipped), world size {world}", flush=True)

    dataset = CropDataset(train_arrays, cfg.size, cfg.seed)
    sampler = (DistributedSampler(dataset, world, rank, shuffle=True, seed=cfg.seed) if world > 1
               else RandomSampler(dataset, generator=torch.Generator().manual_seed(cfg.seed)))
    loader = DataLoader(dataset, batch_size=cfg.batch_size, sampler=sampler, drop_last=True, num_workers=0)
    if len(loader) == 0:
        raise SystemExit(f"{len(train_arrays)} training images are fewer than batch_size {cfg.batch_size}"
                         + (f" x {world} ranks" if world > 1 else ""))

    arch = dict(cfg.arch, hint_channels=HINT_CHANNELS) if cfg.hints else cfg.arch
    net = create_model(cfg.architecture, out_channels=space.chroma_channels, **arch).to(device)
    init = init_weights(net, cfg.init_from) if cfg.init_from else None
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    use_amp = device.startswith("cuda")
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    loss_fn = get_loss(cfg.loss)
    steps_per_epoch = cfg.steps_per_epoch or len(loader)
    total_steps = steps_per_epoch * cfg.epochs

    command = "python -m train " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    state_path, history, start_epoch, best, commands = run_dir / "state.pt", [], 0, None, []
    if state_path.is_file():
        state = torch.load(state_path, map_location=device, weights_only=True)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        history, start_epoch, best = state["history"], state["epoch"], state["best"]
        commands = state.get("commands", [])
        if main:
            print(f"[{cfg.name}] resumed after epoch {start_epoch}", flush=True)
    commands = extend_commands(commands, command, start_epoch, cfg.epochs)
    model = DistributedDataParallel(net) if world > 1 else net
    grey_val = grey_scores(epoch_val) if main and val_arrays else {}
    started, losses = time.time(), []

    for epoch in range(start_epoch, cfg.epochs):
        dataset.set_epoch(epoch)
        if world > 1:
            sampler.set_epoch(epoch)
        else:
            sampler.generator.manual_seed(cfg.seed * 1000 + epoch)
        model.train()
        t0, seen, losses = time.time(), 0, []
        bar = tqdm(total=steps_per_epoch, desc=f"{cfg.name} {epoch + 1}/{cfg.epochs}", disable=not main,
                   mininterval=5, file=sys.stdout)
        for step, rgb in enumerate(batches(loader, steps_per_epoch)):
            for g in opt.param_groups:
                g["lr"] = lr_at(epoch * steps_per_epoch + step, total_steps, cfg)
            rgb = rgb.to(device)
            x, target = space.encode(rgb)
            grey = rgb_to_grey(rgb)
            with torch.autocast("cuda", enabled=use_amp):
                if cfg.hints:
                    maps = training_hints(rgb, cfg.seed, epoch * steps_per_epoch + step, guided(net),
                                          cfg.p_automatic).to(device)
                    pred = network_output(model, space, x, maps, grey)
                else:
                    pred = model(x)
                loss = loss_fn(pred.float(), target, grey)
                if cfg.chroma_weight:
                    loss = loss + cfg.chroma_weight * chroma_deficit(space.chroma(pred.float()), space.chroma(target))
                aux = getattr(net, "aux", None)
                if aux is not None and cfg.aux_weight:
                    small = F.interpolate(rgb, size=aux.shape[-2:], mode="area")
                    loss = loss + cfg.aux_weight * loss_fn(aux.float(), space.target(small), rgb_to_grey(small))
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            seen += rgb.shape[0] * world
            losses.append(loss.item())
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}", img_s=f"{seen / (time.time() - t0):.1f}")
            bar.update()
        bar.close()
        epoch_time = time.time() - t0
        if not main:
            continue
        net.eval()
        val = (evaluate_for_selection(Colorizer(net, space, cfg.size, cfg.render_size), epoch_val, cfg.hints)
               if val_arrays else {})
        row = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "images_per_s": seen / epoch_time,
               "epoch_seconds": epoch_time, **{f"val_{k}": val[k] for k in VAL_KEYS if k in val},
               **{f"val_{k}": v for k, v in val.items() if k.endswith(("_ciede2000", "_psnr")) and k != "ciede2000"}}
        history.append(row)
        print(f"[{cfg.name}] epoch {epoch + 1}: loss {row['loss']:.4f}, {row['images_per_s']:.1f} img/s, "
              + ", ".join(f"{k} {val[k]:.3f} (grey {grey_val[k]:.3f})" for k in VAL_KEYS if k in val), flush=True)
        key = "selection_ciede2000" if cfg.hints else "ciede2000"
        if val and (best is None or val[key] < best["val"][key]):
            best = {"epoch": epoch + 1, "val": val}
            torch.save(net.state_dict(), run_dir / "best.pt.tmp")
            os.replace(run_dir / "best.pt.tmp", run_dir / "best.pt")
        _save_state(state_path, {"model": net.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1,
                                 "history": history, "best": best, "commands": commands})
        write_logs(run_dir, history, grey_val)

    if cfg.digest_file:
        write_digest(cfg, net, rank, world, losses)
    result = {"history": history, "best": best, "grey": grey_val, "train_hash": train_hash, "commands": commands,
              "init": init,
              "val_hash": val_hash, "train_seconds": time.time() - started,
              "skipped": {"train": skipped, "val": val_skipped}, "world_size": world}
    if main and cfg.export_dir:
        load_best(net, run_dir)
        if val_arrays:
            net.eval()
            result["val_full"] = evaluate(Colorizer(net, space, cfg.size, cfg.render_size), val_arrays)
            result["grey_full"] = grey_scores(val_arrays)
        result["export"] = export(cfg, net, result, len(train_arrays))
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return result


def extend_commands(commands: list[dict], command: str, start_epoch: int, epochs: int) -> list[dict]:
    """The run's command history: a resume that changes the command (e.g. more epochs, so
    the cosine schedule restarts from a higher rate) starts a new entry; a plain resume
    of the same command after an interruption does not."""
    if commands and commands[-1]["command"] == command:
        return commands[:-1] + [{**commands[-1], "to_epoch": epochs}]
    return commands + [{"command": command, "from_epoch": start_epoch, "to_epoch": epochs}]


def write_logs(run_dir: Path, history: list[dict], grey: dict) -> None:
    keys = list(history[0])
    lines = [",".join(keys)] + [",".join(f"{r.get(k, '')}" for k in keys) for r in history]
    (run_dir / "log.csv").write_text("\n".join(lines) + "\n")
    (run_dir / "log.json").write_text(json.dumps({"history": history, "grey": grey}, indent=2))
    plot_curves(history, grey, run_dir / "curves.png")


def load_best(net, run_dir: Path) -> None:
    best_path = run_dir / "best.pt"
    if best_path.is_file():
        net.load_state_dict(torch.load(best_path, map_location="cpu", weights_only=True))



def _mean_of(history: list[dict], key: str) -> float | None:
    """The mean of ``key`` over the epochs' records, to 0.1; None before the first epoch."""
    return round(float(np.mean([r[key] for r in history])), 1) if history else None


def export(cfg: Config, net, result: dict, n_train: int) -> dict:
    """Best epoch's weights -> weights/NAME.safetensors + sidecar with the full record."""
    history = result["history"]
    meta = {
        "name": cfg.name, "space": cfg.space, "category": cfg.category,
        "design": cfg.design or describe(cfg.architecture),
        "train_size": cfg.size, "render_size": cfg.render_size, "loss": cfg.loss,
        "data": {"train_dir": cfg.train_dir, "val_dir": cfg.val_dir, "train_sha256": result["train_hash"],
                 "val_sha256": result["val_hash"], "train_images": n_train,
                 "train_skipped": result["skipped"]["train"], "val_skipped": result["skipped"]["val"]},
        "epochs": cfg.epochs, "best_epoch": (result["best"] or {}).get("epoch"),
        # Several commands when a finished run was resumed with more epochs: running them in
        # order reproduces the weights (the later ones continue from runs/NAME/state.pt).
        "command": " && ".join(c["command"] for c in result["commands"]),
        "commands": result["commands"],
        "config": as_dict(cfg),
        "val_metrics": result.get("val_full", {}), "grey_metrics": result.get("grey_full", {}),
        "val_images": (result.get("val_full") or {}).get("n", 0),
        "training": {"seconds_total": round(sum(r["epoch_seconds"] for r in history), 1),
                     "seconds_per_epoch": _mean_of(history, "epoch_seconds"),
                     "images_per_s": _mean_of(history, "images_per_s"),
                     "machine": f"{os.cpu_count()} CPU cores, torch {torch.__version__}",
                     "world_size": result["world_size"],
                     "history": history},
        "licence": cfg.licence,
        "hints": bool(cfg.hints),
    }
    if result.get("init"):
        # A fine-tune: its weights are reproduced by the start's command, then this one.
        meta["init"] = result["init"]
        meta["command"] = " && ".join(c for c in (result["init"].get("command"), meta["command"]) if c)
    net.cpu().eval()
    return save_checkpoint(net, Path(cfg.export_dir) / cfg.name, meta)
