"""Reads every scale of a precomputed volume with TensorStore, from any kvstore (a folder, S3).

  tensorstore_read.py KVSTORE_JSON OUTDIR   write OUTDIR/<i>.bin (voxels x fastest, little-endian)
                                            and print the scales' boxes as JSON
"""
import json
import os
import sys

import numpy as np
import tensorstore as ts


def main(kvstore_json, outdir):
    kvstore = json.loads(kvstore_json)
    info = json.loads(ts.KvStore.open(kvstore).result().read("info").result().value)
    scales = []
    for i in range(len(info["scales"])):
        store = ts.open({"driver": "neuroglancer_precomputed", "kvstore": kvstore, "scale_index": i}).result()
        arr = store.read().result()  # [x, y, z, c], C order
        np.ascontiguousarray(arr.transpose(3, 2, 1, 0)).astype(arr.dtype.newbyteorder("<")).tofile(os.path.join(outdir, f"{i}.bin"))
        dom = store.domain
        scales.append({"start": list(dom.inclusive_min[:3]), "shape": list(dom.shape[:3])})
    print(json.dumps(scales))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
