"""A real network end to end (issue 17): PP-OCRv4's text detector, factorised and measured.

Analyses the conv layers of PP-OCRv4's detector (from the rapidocr-onnxruntime
wheel: ``pip install --no-deps rapidocr-onnxruntime==1.4.4``), factorises its
depthwise kernels at spatial rank 1, 2 and 3 and within an error bound, and
runs the original, approximated and factorised graphs with onnxruntime on an
image with rendered text, side by side in one process (best of n): the
probability map's change (relative L2, max abs), the IoU of the text masks
thresholded at 0.3, and the run-time ratios.  Without the wheel, the same
study runs on kernelfactor's small example network (random input).

    python benchmarks/bench_networks.py            # best of 10
    python benchmarks/bench_networks.py --quick    # best of 3
"""

from __future__ import annotations

import argparse

import numpy as np
from _timing import load

from kernelfactor import networks


def text_image(width: int = 640, height: int = 320) -> np.ndarray:
    """An RGB image with lines of dark text on a light background (Pillow's default font)."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("RGB", (width, height), (235, 232, 225))
    draw = ImageDraw.Draw(im)
    try:
        font = ImageFont.load_default(size=28)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    lines = ["kernelfactor 0.2", "Does this kernel factorise?", "rank 1: 2K mults, not K^2",
             "PP-OCRv4 text detector", "depthwise 5x5 -> 5x1 + 1x5"]
    for i, line in enumerate(lines):
        draw.text((24 + 30 * (i % 2), 20 + 58 * i), line, fill=(20, 20, 30), font=font)
    return np.asarray(im)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    repeats = 3 if args.quick else 10
    try:
        model = networks.ppocr_detector_path()
        x = networks.image_input(text_image())
    except FileNotFoundError as exc:
        print(f"{exc}\nRunning the study on networks.example_model() instead.\n")
        model = networks.example_model()  # type: ignore[assignment]
        x = np.random.default_rng(0).normal(size=(1, 3, 128, 128)).astype(np.float32)
    report = networks.analyze_network(model, input_shape=x.shape)
    print(report.summary())
    print(f"input {x.shape}; {load()}\n")

    plans = {f"rank {k}": networks.choose_ranks(report, rank=k) for k in (1, 2, 3)}
    plans["error<=0.2 per layer"] = networks.choose_ranks(report, max_error=0.2)
    plans["error<=0.5 network"] = networks.choose_ranks(report, max_error=0.5, scope="network")
    for name, plan in plans.items():
        approx = networks.export_approximated(model, plan)
        fact = networks.export_factorised(model, plan)
        ev = networks.evaluate(
            {"original": model, "approximated": approx, "factorised": fact}, x,
            repeats=repeats, threads=args.threads,
        )
        same = networks.evaluate({"approximated": approx, "factorised": fact}, x, repeats=1)
        before, after = plan.multiplications_before, plan.multiplications_after
        print(f"== {name}: {len(plan.factorised)} layers factorised, conv mults "
              f"{before:,} -> {after:,} ({after / before:.3f}x), "
              f"network error {plan.network_error:.3g}")
        print(ev.text(), end="")
        print(f"factorised vs approximated: rel L2 {same['factorised'].relative_l2:.2e}, "
              f"max abs {same['factorised'].max_abs:.2e}, IoU {same['factorised'].iou:.4f}\n")


if __name__ == "__main__":
    main()
