"""Mutations of PyTorch checkpoints (torch.save's zip format and the legacy format): byte-level damage
focused on the pickle, and, inside a zip, a rewritten data.pkl (integers in the pickle changed, a global
renamed to one that runs code, the pickle cut short) or a storage entry cut short, re-zipped so the
damage gets past the zip reader. Seeds: the shared fixtures (tensors-zoo.pt, the legacy UNETR)."""
import io
import re
import zipfile

from . import generic

CODE_GLOBALS = [b"posix\nsystem\n", b"builtins\neval\n", b"subprocess\nPopen\n", b"os\nexecv\n"]


def rezip(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name), data)
    return out.getvalue()


def mutate_zip(data, rng):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = [(info.filename, archive.read(info.filename)) for info in archive.infolist()]
    index = next(i for i, (name, _) in enumerate(entries) if name.endswith("data.pkl"))
    name, pickle = entries[index]
    kind = rng.randrange(5)
    if kind == 0:
        # BININT1 / BININT2 / BININT operands (offsets, sizes, strides) set to other values.
        spots = [m.start() for m in re.finditer(rb"[KMJ]", pickle)]
        out = bytearray(pickle)
        where = rng.sample(spots, min(len(spots), rng.randrange(1, 4)))
        for i in where:
            if i + 1 < len(out):
                out[i + 1] = rng.choice([0, 1, 2, 0x7F, 0xFF])
        entries[index] = (name, bytes(out))
        what = f"pickle integers changed at {where}"
    elif kind == 1:
        globals_ = [m.start() for m in re.finditer(rb"c[a-z_.]+\n[A-Za-z_0-9]+\n", pickle)]
        i = rng.choice(globals_)
        end = pickle.index(b"\n", pickle.index(b"\n", i) + 1) + 1
        replacement = b"c" + rng.choice(CODE_GLOBALS)
        entries[index] = (name, pickle[:i] + replacement + pickle[end:])
        what = f"global at {i} replaced by {replacement!r}"
    elif kind == 2:
        cut = rng.randrange(0, len(pickle))
        entries[index] = (name, pickle[:cut])
        what = f"data.pkl cut to {cut} of {len(pickle)} bytes"
    elif kind == 3:
        storages = [i for i, (n, _) in enumerate(entries) if "/data/" in n]
        j = rng.choice(storages)
        storage_name, storage = entries[j]
        entries[j] = (storage_name, storage[:rng.randrange(0, max(1, len(storage)))])
        what = f"{storage_name} cut short"
    else:
        mutated, what = generic.mutate(pickle, rng, focus=len(pickle))
        entries[index] = (name, mutated)
        what = "data.pkl: " + what
    return rezip(entries), what


def mutate(data, rng):
    """A mutated checkpoint and what was done to it."""
    if data[:4] == b"PK\x03\x04" and rng.random() < 0.6:
        return mutate_zip(data, rng)
    return generic.mutate(data, rng, focus=4096)
