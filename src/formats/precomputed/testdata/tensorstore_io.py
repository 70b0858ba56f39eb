"""TensorStore side of Ferry's precomputed cross-check: an independent implementation of the format.

  tensorstore_io.py read DIR OUTDIR   read every scale of DIR with TensorStore; write OUTDIR/<i>.bin
                                      (voxels x fastest, little-endian) and print the scales' boxes
  tensorstore_io.py write DIR SPEC    create a volume in DIR with TensorStore from SPEC (JSON: the
                                      multiscale metadata and scales), filled with pattern()
"""
import json
import os
import sys

import numpy as np
import tensorstore as ts


def pattern(start, shape, dtype, modulus):
    """Voxel (x, y, z) = (7x + 13y + 101z) mod modulus, in absolute coordinates (same as the Node test)."""
    x = np.arange(start[0], start[0] + shape[0], dtype=np.int64)[:, None, None]
    y = np.arange(start[1], start[1] + shape[1], dtype=np.int64)[None, :, None]
    z = np.arange(start[2], start[2] + shape[2], dtype=np.int64)[None, None, :]
    return ((x * 7 + y * 13 + z * 101) % modulus).astype(dtype)[..., None]


def kvstore(path):
    return {"driver": "file", "path": os.path.abspath(path) + "/"}


def read(path, outdir):
    with open(os.path.join(path, "info")) as f:
        info = json.load(f)
    scales = []
    for i, scale in enumerate(info["scales"]):
        store = ts.open({"driver": "neuroglancer_precomputed", "kvstore": kvstore(path), "scale_index": i}).result()
        arr = store.read().result()  # [x, y, z, c], C order
        # x fastest, channel slowest: the precomputed in-memory order Ferry uses.
        np.ascontiguousarray(arr.transpose(3, 2, 1, 0)).astype(arr.dtype.newbyteorder("<")).tofile(os.path.join(outdir, f"{i}.bin"))
        dom = store.domain
        scales.append({"key": scale["key"], "start": list(dom.inclusive_min[:3]), "shape": list(dom.shape[:3])})
    print(json.dumps(scales))


def write(path, spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    for scale in spec["scales"]:
        store = ts.open(
            {
                "driver": "neuroglancer_precomputed",
                "kvstore": kvstore(path),
                "multiscale_metadata": spec["multiscale"],
                "scale_metadata": scale,
                "create": True,
                "open": True,
            }
        ).result()
        dom = store.domain
        data = pattern(list(dom.inclusive_min[:3]), list(dom.shape[:3]), spec["multiscale"]["data_type"], spec["modulus"])
        store.write(data).result()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("read", "write"):
        sys.exit(__doc__)
    (read if sys.argv[1] == "read" else write)(sys.argv[2], sys.argv[3])
