"""Writes HDF5 files with h5py (native libhdf5), as the registration pipeline's sections are written.

  h5_write.py SPEC_JSON   SPEC_JSON: a list of {"raw": path of the samples (C order, little-endian),
                          "out": path, "shape": [...], "dtype": numpy dtype of the samples in memory,
                          "stored": numpy dtype in the file (default: dtype), "dataset": name (default
                          "img"), "chunks": [...] or null, "compression": "gzip" | "lzf" | null,
                          "shuffle": bool, "fletcher32": bool}
"""
import json
import sys

import h5py
import numpy as np


def main(spec_json):
    for s in json.loads(spec_json):
        data = np.fromfile(s["raw"], dtype=np.dtype(s["dtype"]).newbyteorder("<")).reshape(s["shape"])
        stored = np.dtype(s.get("stored") or s["dtype"])
        with h5py.File(s["out"], "w") as f:
            f.create_dataset(
                s.get("dataset", "img"),
                data=data.astype(stored),
                chunks=tuple(s["chunks"]) if s.get("chunks") else None,
                compression=s.get("compression"),
                shuffle=bool(s.get("shuffle")),
                fletcher32=bool(s.get("fletcher32")),
            )


if __name__ == "__main__":
    main(sys.argv[1])
