"""The ctypes structs in bertc/_lib.py mirror include/bertc.h: the same fields, in the same
order, at the same offsets, with the same sizes. The field names come from the header's
text; sizes and offsets from a snippet compiled against the header (the compiler's layout,
not one reasoned by hand), so a field added to C and not to Python fails here."""
import ctypes
import os
import re
import shutil
import subprocess

import pytest

from bertc import _lib
from conftest import ROOT

HEADER = ROOT / "include" / "bertc.h"


def header_fields(text, name):
    """The member names of `typedef struct NAME { ... } NAME;`, in order."""
    m = re.search(r"typedef struct %s \{(.*?)\} %s;" % (name, name), text, re.S)
    assert m, f"{HEADER}: no typedef struct {name}"
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    names = []
    for decl in body.split(";"):
        decl = decl.strip()
        if not decl:
            continue
        # "const char *entity", "int start, end", "char msg[1024]", "unsigned long long seed"
        first, *rest = decl.split(",")
        for d in [first] + rest:
            d = re.sub(r"\[.*?\]", "", d).strip()
            names.append(re.findall(r"[A-Za-z_]\w*", d)[-1])
    return names


def test_struct_fields_match_the_header():
    text = HEADER.read_text(encoding="utf-8")
    for cname, cls in _lib.C_STRUCTS.items():
        assert [f[0] for f in cls._fields_] == header_fields(text, cname), cname
    # every public struct of the header with fields is mirrored
    declared = set(re.findall(r"typedef struct (\w+) \{", text))
    assert declared == set(_lib.C_STRUCTS), declared ^ set(_lib.C_STRUCTS)


def test_struct_layout_matches_the_compiler(tmp_path):
    cc = os.environ.get("CC", "cc")
    if not shutil.which(cc):
        pytest.skip(f"SKIP: no C compiler ({cc}) to lay out bertc.h's structs")
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "bertc.h"', "int main(void) {"]
    want = []
    for cname, cls in _lib.C_STRUCTS.items():
        lines.append(f'    printf("%zu\\n", sizeof({cname}));')
        want.append((cname, "sizeof", ctypes.sizeof(cls)))
        for field, _ in cls._fields_:
            lines.append(f'    printf("%zu\\n", offsetof({cname}, {field}));')
            want.append((cname, field, getattr(cls, field).offset))
            lines.append(f'    printf("%zu\\n", sizeof((({cname} *)0)->{field}));')
            want.append((cname, field + " size", getattr(cls, field).size))
    lines += ["    return 0;", "}"]
    src, exe = tmp_path / "layout.c", tmp_path / "layout"
    src.write_text("\n".join(lines) + "\n")
    r = subprocess.run([cc, "-std=c11", "-I", str(ROOT / "include"), str(src), "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr  # a field the header lacks fails to compile
    got = [int(x) for x in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()]
    assert len(got) == len(want)
    for (cname, what, w), g in zip(want, got):
        assert g == w, f"{cname}.{what}: C says {g}, ctypes {w}"
