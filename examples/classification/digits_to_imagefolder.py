"""Write scikit-learn's handwritten digits (1,797 8x8 images shipped inside the package) as an ImageFolder.

    python examples/classification/digits_to_imagefolder.py -o data/digits [--size 32] [--val 0.2]

Writes <out>/train/<digit>/<n>.png and <out>/val/<digit>/<n>.png: grey digits upscaled (bicubic) to
--size pixels, a stratified split with a fixed seed, so every run of the walkthrough sees the same data.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image


def write_digits(out: Path, size: int = 32, val_fraction: float = 0.2, seed: int = 0) -> dict[str, int]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    pixels = (digits.images * (255.0 / 16.0)).round().astype(np.uint8)  # values 0..16 -> 0..255
    index = np.arange(len(pixels))
    train, val = train_test_split(index, test_size=val_fraction, random_state=seed, stratify=digits.target)
    counts = {}
    for split, chosen in (("train", train), ("val", val)):
        for i in sorted(chosen):
            folder = out / split / str(digits.target[i])
            folder.mkdir(parents=True, exist_ok=True)
            image = Image.fromarray(pixels[i]).resize((size, size), Image.Resampling.BICUBIC)
            image.save(folder / f"{i:04d}.png")
        counts[split] = len(chosen)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output_dir", type=Path, required=True, help="Folder to write (must not exist).")
    parser.add_argument("--size", type=int, default=32, help="Image side in pixels (default 32).")
    parser.add_argument("--val", type=float, default=0.2, help="Validation fraction (default 0.2).")
    parser.add_argument("--seed", type=int, default=0, help="Split seed (default 0).")
    args = parser.parse_args()
    if args.output_dir.exists() and any(args.output_dir.iterdir()):
        parser.error(f"{args.output_dir} is not empty")
    counts = write_digits(args.output_dir, args.size, args.val, args.seed)
    print(f"wrote {counts['train']} training and {counts['val']} validation images to {args.output_dir}")


if __name__ == "__main__":
    main()
