"""Mutations of YAML specs: extreme numbers and junk strings in place of scalars, lines deleted,
duplicated or re-indented, alias bombs, deep nesting, undefined variables, invalid UTF-8."""
import re

from . import generic

NUMBERS = ["0", "-1", "-0", "1e308", "-1e308", "1e-320", ".nan", ".inf", "-.inf", "9223372036854775807",
           "9223372036854775808", "18446744073709551616", "99999999999999999999999", "2147483648", "65536",
           "100000", "0x7fffffff", "1.5", "~", "[]", "{}", "true", "''"]
STRINGS = ["", "'", '"', "~", "null", "[", "{", "- -", "&a", "*a", "*nope", "!!binary AAAA", "!!python/object x",
           "${UNSET_HIPPOPEFT_VARIABLE}", "$${", "../../../../etc/passwd", "/dev/zero", "/nonexistent",
           "x" * 5000, "<script>alert(1)</script>", "\\u0000", "é\u202e", "unetr\tx", "? x", "%YAML 1.1"]

SCALAR = re.compile(r"(?<=[:\[,{]\s)([^\s,\]\}\[\{:#][^,\]\}\n#]*)|(?<=^- )(\S.*)$", re.M)


def replace_scalar(text, rng):
    matches = list(SCALAR.finditer(text))
    if not matches:
        return generic.mutate(text.encode(), rng, len(text))
    m = rng.choice(matches)
    old = m.group(0)
    new = rng.choice(NUMBERS) if re.fullmatch(r"[-+.\d eE]+", old.strip()) or rng.random() < 0.4 else rng.choice(STRINGS)
    line = text.count("\n", 0, m.start()) + 1
    return (text[:m.start()] + new + text[m.end():]).encode(), f"line {line}: {old.strip()!r} -> {new[:40]!r}"


def edit_lines(text, rng):
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    kind = rng.randrange(4)
    if kind == 0:
        del lines[i]
        what = f"line {i + 1} deleted"
    elif kind == 1:
        lines.insert(i, lines[i])
        what = f"line {i + 1} duplicated"
    elif kind == 2:
        lines[i] = rng.choice(["", " ", "  ", "\t", "    "]) + lines[i]
        what = f"line {i + 1} re-indented"
    else:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
        what = f"lines {i + 1} and {j + 1} swapped"
    return "\n".join(lines).encode(), what


def hostile(text, rng):
    kind = rng.randrange(6)
    if kind == 0:
        levels = rng.choice([9, 12, 30])
        bomb = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
        bomb += [f"a{k}: &a{k} [*a{k - 1},*a{k - 1},*a{k - 1},*a{k - 1},*a{k - 1},*a{k - 1},*a{k - 1},*a{k - 1},*a{k - 1}]"
                 for k in range(1, levels)]
        key = "description" if "\ndescription:" not in text else "bomb"
        return (text + "\n" + "\n".join(bomb) + f"\n{key}: *a{levels - 1}\n").encode(), f"alias bomb of {levels} levels"
    if kind == 1:
        depth = rng.choice([100, 1000, 20000])
        return (text + "\nreport: " + "[" * depth + "]" * depth + "\n").encode(), f"sequence nested {depth} deep"
    if kind == 2:
        depth = rng.choice([100, 1000, 20000])
        return (text + "\nreport: " + "{a: " * depth + "1" + "}" * depth + "\n").encode(), f"mapping nested {depth} deep"
    if kind == 3:
        return text.encode() + bytes([0xFF, 0xFE, 0xC0, 0x80]), "invalid UTF-8 appended"
    if kind == 4:
        return (text.replace("name: ", "name: &self ", 1) + "\nextra: *self\n").encode(), "anchor reused"
    return (text + "\n" + "x: " * 3 + "\n").encode(), "malformed mapping appended"


def mutate(text, rng):
    choice = rng.random()
    if choice < 0.5:
        return replace_scalar(text, rng)
    if choice < 0.7:
        return edit_lines(text, rng)
    if choice < 0.85:
        return hostile(text, rng)
    return generic.mutate(text.encode(), rng, len(text))
