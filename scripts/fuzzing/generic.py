"""Byte-level mutations that know nothing of the format: truncation, bit flips, overwritten bytes,
inserted and deleted chunks. `focus` is the length of the part worth most attention (a header)."""


def truncate(data, rng, focus):
    cut = rng.randrange(0, min(len(data), focus + 8)) if rng.random() < 0.6 else rng.randrange(0, len(data))
    return data[:cut], f"truncated to {cut} of {len(data)} bytes"


def flip_bits(data, rng, focus):
    out = bytearray(data)
    n = rng.choice([1, 1, 1, 2, 3, 8])
    where = []
    for _ in range(n):
        i = rng.randrange(0, min(len(out), focus)) if rng.random() < 0.8 else rng.randrange(0, len(out))
        out[i] ^= 1 << rng.randrange(8)
        where.append(i)
    return bytes(out), f"{n} bit(s) flipped at {where}"


def overwrite(data, rng, focus):
    out = bytearray(data)
    i = rng.randrange(0, min(len(out), focus))
    value = rng.choice([b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00\x00\x80", b"\xff\xff\xff\x7f", b"\xff" * 8])
    out[i:i + len(value)] = value
    return bytes(out), f"bytes at {i} set to {value.hex()}"


def splice(data, rng, focus):
    i = rng.randrange(0, min(len(data), focus))
    if rng.random() < 0.5:
        n = rng.randrange(1, 64)
        return data[:i] + data[i + n:], f"{n} bytes deleted at {i}"
    chunk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    return data[:i] + chunk + data[i:], f"{len(chunk)} random bytes inserted at {i}"


MUTATIONS = [truncate, flip_bits, flip_bits, overwrite, splice]


def mutate(data, rng, focus):
    return rng.choice(MUTATIONS)(data, rng, focus)
