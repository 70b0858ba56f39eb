#!/usr/bin/python3
"""The InLens conversion written with NumPy, as EM_recon_pipeline's dat_to_scheffer_8_bit.py does it,
for bench/dat-to-png.ts to compare against in the same run.

usage: dat_to_png_numpy.py OUT_DIR REPEATS PNG_LEVEL PNG_STRATEGY FILE.dat...
Prints one JSON object: per phase, the best wall and CPU seconds per file over REPEATS runs, and
the PNG bytes per file. Two PNG phases: Pillow at PNG_LEVEL with its own choices (zlib's default
strategy, adaptive row filters), and Pillow at PNG_LEVEL with zlib strategy PNG_STRATEGY (Pillow's
`compress_type`), so the peer can use the zlib settings Ferry uses.
Run with Debian's /usr/bin/python3 and python3-numpy (python3-pil for the PNG phases).
"""
import json
import os
import sys
import time
import zlib

import numpy as np

try:
    import PIL
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
    out_dir, repeats, level, strategy, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
    phases = {"rule": {}, "png": {"compress_level": level}, "png_strategy": {"compress_level": level, "compress_type": strategy}}
    best = {name: [float("inf"), float("inf")] for name in phases}
    size = {name: {} for name in phases}
    os.makedirs(os.path.join(out_dir, "strategy"), exist_ok=True)
    for _ in range(repeats):
        for path in files:
            image, wall, cpu = timed(lambda: compress(read_channel0(path)))
            best["rule"] = [min(best["rule"][0], wall), min(best["rule"][1], cpu)]
            if Image is None:
                continue
            name = os.path.basename(path)[: -len(".dat")] + "-InLens.png"
            for phase, where in (("png", out_dir), ("png_strategy", os.path.join(out_dir, "strategy"))):
                target = os.path.join(where, name)
                _, wall, cpu = timed(lambda: Image.fromarray(image).save(target, **phases[phase]))
                best[phase] = [min(best[phase][0], wall), min(best[phase][1], cpu)]
                size[phase][path] = os.path.getsize(target)
    # PNG bytes: the mean over the files.
    timing = lambda name: {"wall": best[name][0], "cpu": best[name][1], "bytes": sum(size[name].values()) / len(files)}
    print(json.dumps({
        "numpy": np.__version__,
        "pil": PIL.__version__ if Image is not None else None,
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "rule": {"wall": best["rule"][0], "cpu": best["rule"][1]},
        "png": timing("png") if Image is not None else None,
        "png_strategy": timing("png_strategy") if Image is not None else None,
    }))


if __name__ == "__main__":
    main()
