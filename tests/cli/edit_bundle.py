#!/usr/bin/env python3
"""Rewrites a bundle (safetensors) for the hostile-input CLI tests, keeping the container valid.

  edit_bundle.py IN OUT --patch JSON        merge JSON into __metadata__["rt3"] (RFC 7386 style)
  edit_bundle.py IN OUT --scale NAME X      multiply every F32 value of tensors whose name
                                            contains NAME by X (e.g. 3e38: finite, overflows)
  edit_bundle.py IN OUT --poke NAME X       set the first F32 value of the first tensor whose name
                                            contains NAME to X (e.g. nan); any safetensors file
"""
import json
import struct
import sys


def merge(dst, patch):
    if not isinstance(patch, dict):
        return patch
    if not isinstance(dst, dict):
        dst = {}
    for k, v in patch.items():
        if v is None:
            dst.pop(k, None)
        else:
            dst[k] = merge(dst.get(k), v)
    return dst


def main():
    src, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    raw = open(src, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = bytearray(raw[8 + n:])
    if mode == "--patch":
        meta = json.loads(header["__metadata__"]["rt3"])
        header["__metadata__"]["rt3"] = json.dumps(merge(meta, json.loads(sys.argv[4])))
    elif mode == "--scale":
        name, factor = sys.argv[4], float(sys.argv[5])
        for k, v in header.items():
            if k == "__metadata__" or name not in k or v["dtype"] != "F32":
                continue
            b, e = v["data_offsets"]
            vals = struct.unpack("<%df" % ((e - b) // 4), data[b:e])
            scaled = [max(-3.4e38, min(3.4e38, x * factor)) for x in vals]
            data[b:e] = struct.pack("<%df" % len(scaled), *scaled)
    elif mode == "--poke":
        name, value = sys.argv[4], float(sys.argv[5])
        k = next(k for k, v in header.items() if k != "__metadata__" and name in k and v["dtype"] == "F32")
        b = header[k]["data_offsets"][0]
        data[b:b + 4] = struct.pack("<f", value)
    else:
        sys.exit("unknown mode " + mode)
    text = json.dumps(header).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)  # keep the data 8-byte aligned
    open(out, "wb").write(struct.pack("<Q", len(text)) + text + bytes(data))


if __name__ == "__main__":
    main()
