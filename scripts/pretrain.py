"""Train the demo checkpoints from their fixed seeds and write them to checkpoints/.

    .venv/bin/python scripts/pretrain.py                      # every checkpoint (a few minutes each, CPU)
    .venv/bin/python scripts/pretrain.py seq2seq-reverse-attention
    .venv/bin/python scripts/pretrain.py --check NAME         # retrain, compare with the committed file

Recipes (config, seeds, steps, learning rate) are in models/pretrain.py. One thread by default (the
file records it): the same recipe with the same thread count reproduces the same losses, and one
thread also keeps training steady on a busy two-core machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.checkpoints import CHECKPOINT_DIR, load_checkpoint, save_checkpoint  # noqa: E402
from models.pretrain import RECIPES, train  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"checkpoints to train (default: all of {', '.join(RECIPES)})")
    parser.add_argument("--steps", type=int, help="train fewer steps (a quick try; do not commit the result)")
    parser.add_argument("--out", type=Path, default=CHECKPOINT_DIR, help="directory to write the .pt files to")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--check", action="store_true", help="retrain and compare with the committed checkpoint")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    unknown = [n for n in args.names if n not in RECIPES]
    if unknown:
        parser.error(f"unknown checkpoint(s) {unknown}; choose from {list(RECIPES)}")
    failed = False
    for name in args.names or list(RECIPES):
        recipe = RECIPES[name]
        result = train(recipe, args.steps)
        line = f"{name}: final loss {result.final_loss:.4f} ({result.seconds:.0f} s) {result.report}"
        if args.check:
            committed = load_checkpoint(name).meta["final_loss"]
            same = abs(committed - result.final_loss) <= 1e-3 * max(1.0, abs(committed))
            failed |= not same
            print(f"{line}\n  committed {committed:.4f}: {'reproduced' if same else 'DIFFERS'}", flush=True)
            continue
        meta = {
            "seed": recipe.config.seed,
            "data_seed": recipe.data_seed,
            "steps": args.steps or recipe.steps,
            "batch": recipe.batch,
            "lr": recipe.lr,
            **({"seq_len": recipe.seq_len} if recipe.seq_len else {}),
            "weight_dtype": recipe.weight_dtype,
            "final_loss": result.final_loss,
            "history": [[step, loss] for step, loss in result.history],
            "report": result.report,
            "seconds": result.seconds,
            "threads": args.threads,
            "torch": str(torch.__version__),
            "command": f".venv/bin/python scripts/pretrain.py {name}",
        }
        path = args.out / f"{name}.pt"
        save_checkpoint(path, recipe.info, result.model, result.vocab, meta, dtype=getattr(torch, recipe.weight_dtype))
        print(f"{line}\n  wrote {path} ({path.stat().st_size // 1024} KB)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
