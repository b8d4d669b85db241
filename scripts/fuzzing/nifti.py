"""NIfTI seeds (small label maps written here, NIfTI-1 and NIfTI-2) and mutations of their header
fields: sizes, datatypes, offsets, spacings, scalings, transforms, magic, and extensions."""
import gzip
import math
import struct

from . import generic

SHAPE = (12, 10, 8)

# datatype code -> (struct format of one voxel, bitpix)
DATATYPES = {2: ("B", 8), 4: ("h", 16), 8: ("i", 32), 16: ("f", 32), 64: ("d", 64), 256: ("b", 8), 512: ("H", 16)}


def labels():
    """A label map with two blobs (1 and 2), x fastest."""
    nx, ny, nz = SHAPE
    out = []
    for z in range(nz):
        for y in range(ny):
            for x in range(nx):
                a = (x - 4) ** 2 + (y - 4) ** 2 + (z - 3) ** 2 <= 6
                b = (x - 8) ** 2 + (y - 6) ** 2 + (z - 4) ** 2 <= 4
                out.append(1 if a else 2 if b else 0)
    return out


def nifti1(datatype=2):
    fmt, bitpix = DATATYPES[datatype]
    header = bytearray(348)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, 3, *SHAPE, 1, 1, 1, 1)
    struct.pack_into("<hh", header, 70, datatype, bitpix)
    struct.pack_into("<8f", header, 76, 1, 1.0, 1.0, 1.5, 1, 1, 1, 1)
    struct.pack_into("<fff", header, 108, 352, 1, 0)
    header[123] = 2  # millimetres
    struct.pack_into("<hh", header, 252, 1, 1)
    struct.pack_into("<6f", header, 256, 0, 0, 0, -6, -5, -4)
    struct.pack_into("<12f", header, 280, 1, 0, 0, -6, 0, 1, 0, -5, 0, 0, 1.5, -4)
    header[344:348] = b"n+1\0"
    return bytes(header) + b"\0\0\0\0" + struct.pack("<" + fmt * len(labels()), *labels())


def nifti2(datatype=2):
    fmt, bitpix = DATATYPES[datatype]
    header = bytearray(540)
    struct.pack_into("<i", header, 0, 540)
    header[4:12] = b"n+2\0\r\n\x1a\n"
    struct.pack_into("<hh", header, 12, datatype, bitpix)
    struct.pack_into("<8q", header, 16, 3, *SHAPE, 1, 1, 1, 1)
    struct.pack_into("<8d", header, 104, 1, 1.0, 1.0, 1.5, 1, 1, 1, 1)
    struct.pack_into("<q", header, 168, 544)
    struct.pack_into("<dd", header, 176, 1, 0)
    struct.pack_into("<ii", header, 344, 1, 1)
    struct.pack_into("<6d", header, 352, 0, 0, 0, -6, -5, -4)
    struct.pack_into("<12d", header, 400, 1, 0, 0, -6, 0, 1, 0, -5, 0, 0, 1.5, -4)
    struct.pack_into("<i", header, 500, 2)
    return bytes(header) + b"\0\0\0\0" + struct.pack("<" + fmt * len(labels()), *labels())


def seeds():
    """(name, bytes) of plain seeds; each is also written gzipped."""
    return [("u8", nifti1(2)), ("i16", nifti1(4)), ("f32", nifti1(16)), ("f64", nifti1(64)), ("n2-u8", nifti2(2))]


INTS = [0, 1, -1, 2, 3, 7, 8, 255, 32767, -32768, 2 ** 31 - 1, -2 ** 31]
FLOATS = [0.0, -1.0, 1e-30, 1e30, math.inf, -math.inf, math.nan, 351.0, 352.5, 2.0 ** 31, 1e10]

# (name, offset, struct format, candidate values) of the NIfTI-1 header fields worth attacking.
NIFTI1_FIELDS = [
    ("sizeof_hdr", 0, "<i", [540, 0, -1, 347, 349, 0x5C010000]),
    ("dim[0]", 40, "<h", [0, 1, 2, 4, 5, 7, 8, -3, 768]),
    ("dim[1]", 42, "<h", INTS[:10]), ("dim[2]", 44, "<h", INTS[:10]), ("dim[3]", 46, "<h", INTS[:10]),
    ("dim[4]", 48, "<h", [0, 2, 3, -1, 32767]), ("dim[5]", 50, "<h", [0, 2, -1, 32767]),
    ("datatype", 70, "<h", [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304, 9999, -1]),
    ("bitpix", 72, "<h", [0, 1, 7, 8, 16, 64, 128, -8]),
    ("pixdim[0]", 76, "<f", [0.0, -1.0, 2.0, math.nan]),
    ("pixdim[1]", 80, "<f", FLOATS), ("pixdim[3]", 88, "<f", FLOATS),
    ("vox_offset", 108, "<f", [0.0, 348.0, 351.0, 353.0, 1e6, 2.0 ** 31, -352.0, math.nan, math.inf, 1e30]),
    ("scl_slope", 112, "<f", FLOATS), ("scl_inter", 116, "<f", FLOATS),
    ("qform_code", 252, "<h", [0, 1, 2, 4, 5, -1, 32767]), ("sform_code", 254, "<h", [0, 1, 2, 5, -1]),
    ("quatern_b", 256, "<f", [2.0, -2.0, math.nan, math.inf, 1.0]),
    ("qoffset_x", 268, "<f", FLOATS), ("srow_x[0]", 280, "<f", FLOATS), ("srow_z[2]", 320, "<f", FLOATS),
    ("magic", 344, "4s", [b"ni1\0", b"n+2\0", b"n+9\0", b"nx1\0", b"\0\0\0\0", b"n+1x"]),
    ("extension", 348, "4s", [b"\1\0\0\0", b"\xff\xff\xff\xff"]),
]


def mutate_nifti1_field(data, rng):
    name, offset, fmt, values = rng.choice(NIFTI1_FIELDS)
    value = rng.choice(values)
    out = bytearray(data)
    struct.pack_into(fmt, out, offset, value)
    return bytes(out), f"{name} = {value!r}"


def add_extension(data, rng):
    """An extension (flag set) whose size field is absurd, negative or runs past vox_offset."""
    size = rng.choice([0, 8, 16, 17, -16, 2 ** 31 - 8, 1 << 20, 352])
    code = rng.choice([0, 4, 6, -1])
    out = bytearray(data)
    out[348:352] = b"\1\0\0\0"
    body = struct.pack("<ii", size, code) + b"x" * 8
    return bytes(out[:352]) + body + bytes(out[352:]), f"extension of esize {size}, ecode {code}"


def mutate(data, rng, nifti2_seed):
    """(mutated bytes, what was done) of a plain NIfTI file."""
    if nifti2_seed or rng.random() < 0.35:
        return generic.mutate(data, rng, focus=552)
    if rng.random() < 0.15:
        return add_extension(data, rng)
    out, what = mutate_nifti1_field(data, rng)
    if rng.random() < 0.3:
        out, more = mutate_nifti1_field(out, rng)
        what += "; " + more
    return out, what


def mutate_gz(plain, rng, nifti2_seed):
    """Either the header inside a valid gzip stream, or the compressed bytes themselves."""
    if rng.random() < 0.6:
        out, what = mutate(plain, rng, nifti2_seed)
        return gzip.compress(out, mtime=0), "inside gzip: " + what
    out, what = generic.mutate(gzip.compress(plain, mtime=0), rng, focus=200)
    return out, "gzip bytes: " + what
