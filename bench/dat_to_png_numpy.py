#!/usr/bin/python3
"""The InLens conversion written with NumPy, as EM_recon_pipeline's dat_to_scheffer_8_bit.py does it,
for bench/dat-to-png.ts to compare against in the same run.

usage: dat_to_png_numpy.py OUT_DIR REPEATS PNG_LEVEL FILE.dat...
Prints one JSON object: per phase, the best wall and CPU seconds per file over REPEATS runs.
Run with Debian's /usr/bin/python3 and python3-numpy (python3-pil for the PNG phase).
"""
import json
import os
import sys
import time

import numpy as np

try:
    from PIL import Image
except ImportError:
    Image = None


def read_channel0(path):
    with open(path, "rb") as f:
        header = f.read(1024)
    width = int.from_bytes(header[100:104], "big")
    height = int.from_bytes(header[104:108], "big")
    channels = header[32]
    dtype = ">u1" if header[33] == 1 else ">i2"
    data = np.fromfile(path, dtype=dtype, count=width * height * channels, offset=1024)
    # Native byte order once, so the rule below runs at NumPy's best speed.
    return data.reshape(height, width, channels)[:, :, 0].astype(dtype[1:])


def compress(pixel_array):
    low_bound, high_bound, saturated = -32768.0, 32767.0, 3
    real = pixel_array[np.logical_and(pixel_array >= low_bound + saturated, pixel_array < high_bound - saturated)]
    mean = np.mean(real).item()
    std_dev = np.std(real).item()
    low = max(mean - 4 * std_dev, low_bound)
    high = min(mean + 4 * std_dev, high_bound)
    low, high = high, low
    span = high - low
    data = 255.0 * ((pixel_array - low) / span) + 0.5
    data[data <= -1.0] = 0
    data[data >= 256.0] = 255
    return data.astype(np.uint8)


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - w0, time.process_time() - c0


def main():
    out_dir, repeats, level, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    best = {"rule": [float("inf"), float("inf")], "png": [float("inf"), float("inf")]}
    for _ in range(repeats):
        for path in files:
            image, wall, cpu = timed(lambda: compress(read_channel0(path)))
            best["rule"] = [min(best["rule"][0], wall), min(best["rule"][1], cpu)]
            if Image is None:
                continue
            base = os.path.basename(path)[: -len(".dat")]
            target = os.path.join(out_dir, base + "-InLens.png")
            _, wall, cpu = timed(lambda: Image.fromarray(image).save(target, compress_level=level))
            best["png"] = [min(best["png"][0], wall), min(best["png"][1], cpu)]
    print(json.dumps({
        "numpy": np.__version__,
        "pil": Image is not None,
        "rule": {"wall": best["rule"][0], "cpu": best["rule"][1]},
        "png": {"wall": best["png"][0], "cpu": best["png"][1]} if Image is not None else None,
    }))


if __name__ == "__main__":
    main()
