"""Mutations of safetensors files that get past a plain JSON check: the header length field, numbers in
shapes and offsets, dtypes, tensors reshaped to the same element count (a valid file with the wrong
meaning), dropped, duplicated or swapped entries, odd metadata."""
import json
import struct

from . import generic

HUGE = [-1, 0, 1, 2 ** 31, 2 ** 32 + 1, 2 ** 53 + 1, 2 ** 63 - 1, 2 ** 63, 2 ** 64, 10 ** 30]


def split(data):
    (length,) = struct.unpack_from("<Q", data, 0)
    return length, json.loads(data[8:8 + length]), data[8 + length:]


def join(header, body, pad=True):
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def tensors(header):
    return [k for k in header if k != "__metadata__"]


def factorizations(count, rng):
    """A random shape of `count` elements with rank 0 to 6 (rank 0 only for count 1)."""
    rank = rng.randrange(0, 7) if count == 1 else rng.randrange(1, 7)
    shape, left = [], count
    for _ in range(rank - 1):
        divisors = [d for d in range(1, min(left, 64) + 1) if left % d == 0]
        d = rng.choice(divisors)
        shape.append(d)
        left //= d
    if rank:
        shape.append(left)
    rng.shuffle(shape)
    return shape


def mutate_header(data, rng):
    length, header, body = split(data)
    names = tensors(header)
    name = rng.choice(names)
    entry = header[name]
    kind = rng.randrange(10)
    if kind == 0:
        count = 1
        for d in entry["shape"]:
            count *= d
        entry["shape"] = factorizations(count, rng)
        what = f"{name} reshaped to {entry['shape']}"
    elif kind == 1:
        i = rng.randrange(max(1, len(entry["shape"])))
        value = rng.choice(HUGE)
        if entry["shape"]:
            entry["shape"][i] = value
        else:
            entry["shape"] = [value]
        what = f"{name} shape[{i}] = {value}"
    elif kind == 2:
        i = rng.randrange(2)
        value = rng.choice(HUGE + [entry["data_offsets"][1 - i]])
        entry["data_offsets"][i] = value
        what = f"{name} data_offsets[{i}] = {value}"
    elif kind == 3:
        entry["dtype"] = rng.choice(["F16", "BF16", "F64", "I64", "I32", "I8", "U8", "BOOL", "F8_E4M3", "f32", "", "C64"])
        what = f"{name} dtype {entry['dtype']}"
    elif kind == 4:
        del header[name]
        what = f"{name} removed"
    elif kind == 5 and len(names) > 1:
        other = rng.choice([n for n in names if n != name])
        header[name]["data_offsets"], header[other]["data_offsets"] = header[other]["data_offsets"], entry["data_offsets"]
        what = f"offsets of {name} and {other} swapped"
    elif kind == 6:
        field = rng.choice(["dtype", "shape", "data_offsets"])
        entry[field] = rng.choice([None, "x", 3.5, [], {}, [1.5], [[1]], True])
        what = f"{name} {field} = {entry[field]!r}"
    elif kind == 7:
        header["__metadata__"] = rng.choice([[], "x", {"a": 1}, {"a": {"b": "c"}}, {"format": "pt", "deep": [[[[[]]]]]}])
        what = f"__metadata__ = {header['__metadata__']!r}"
    elif kind == 8:
        # A duplicated key cannot be expressed by json.dumps: write the text by hand.
        text = json.dumps(header, separators=(",", ":"))
        dup = json.dumps({name: entry}, separators=(",", ":"))[1:-1]
        text = "{" + dup + "," + text[1:]
        padded = text.encode() + b" " * (-len(text) % 8)
        return struct.pack("<Q", len(padded)) + padded + body, f"{name} listed twice"
    else:
        nest = rng.choice([10, 100, 10000])
        header["__metadata__"] = {"x": "y"}
        text = json.dumps(header, separators=(",", ":"))
        text = text[:-1] + ',"deep":' + "[" * nest + "]" * nest + "}"
        padded = text.encode() + b" " * (-len(text) % 8)
        return struct.pack("<Q", len(padded)) + padded + body, f"array nested {nest} deep in the header"
    return join(header, body), what


def mutate_length(data, rng):
    (length,) = struct.unpack_from("<Q", data, 0)
    value = rng.choice([0, 1, 7, length - 1, length + 1, len(data) - 8, len(data), 2 ** 63, 2 ** 64 - 1, 100_000_001])
    return struct.pack("<Q", value % 2 ** 64) + data[8:], f"header length = {value}"


def mutate(data, rng):
    (length,) = struct.unpack_from("<Q", data, 0)
    choice = rng.random()
    if choice < 0.45:
        return mutate_header(data, rng)
    if choice < 0.55:
        return mutate_length(data, rng)
    return generic.mutate(data, rng, focus=8 + length)
