"""No drift between the three descriptions of the C ABI: include/strata.h (parsed), the symbols
libstrata.so exports (read from the built library) and the ctypes table strata._lib.PROTOTYPES.

Everything is read dynamically, so a function added to the header is covered at once: it must
be exported, declared in ctypes with matching types, and nothing else may be exported.
"""
import ctypes
import re
import subprocess
from pathlib import Path

import pytest

from helpers import LIBRARY, needs_library
from strata import _lib

REPO = Path(__file__).resolve().parents[3]
HEADER = REPO / "include" / "strata.h"
VERSION_SCRIPT = REPO / "strata.map"

_SCALARS = {
    "int32_t": ctypes.c_int32, "int64_t": ctypes.c_int64, "uint32_t": ctypes.c_uint32,
    "uint64_t": ctypes.c_uint64, "uint8_t": ctypes.c_uint8, "int8_t": ctypes.c_int8,
    "size_t": ctypes.c_size_t, "float": ctypes.c_float, "double": ctypes.c_double,
    "int": ctypes.c_int, "unsigned": ctypes.c_uint, "char": ctypes.c_char,
}


def _header_text():
    text = re.sub(r"/\*.*?\*/", " ", HEADER.read_text(), flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^\s*#.*$", " ", text, flags=re.M)  # preprocessor lines
    return re.sub(r"\bSTRATA_(NONNULL|NULLABLE)\b", " ", text)


def _split_params(params):
    out, depth, cur = [], 0, ""
    for ch in params:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    return [p.strip() for p in out + [cur] if p.strip()]


def header_prototypes():
    """{name: (return type, [parameter types])} of every STRATA_API function, in header order."""
    protos = {}
    for ret, name, params in re.findall(r"STRATA_API\s+([^;(]*?)\b(strata_\w+)\s*\(([^;]*?)\)\s*;",
                                        _header_text(), flags=re.S):
        params = [] if params.strip() in ("", "void") else _split_params(params)
        protos[name] = (" ".join(ret.split()), [" ".join(p.split()) for p in params])
    return protos


def header_structs():
    """{typedef name: [(field type, field name)]} of every `typedef struct X { ... } X;`."""
    structs = {}
    for name, body, alias in re.findall(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;",
                                        _header_text(), flags=re.S):
        fields = []
        for decl in filter(None, (d.strip() for d in body.split(";"))):
            m = re.fullmatch(r"(.+?)\s*\b(\w+)", " ".join(decl.split()))
            fields.append((m[1].strip(), m[2]))
        structs[alias] = fields
    return structs


def ctype_of(c_type, param_name_allowed=True):
    """The ctypes type a C type (with or without a parameter name) must be declared as, or
    None for `void`, or "function" for a function pointer (compared by count only)."""
    if "(" in c_type:
        return "function"
    stars = c_type.count("*")
    words = [w for w in c_type.replace("*", " ").split() if w not in ("const", "struct", "volatile")]
    if param_name_allowed and len(words) > 1:
        words = words[:-1]  # drop the parameter's name
    assert len(words) == 1, f"cannot read the C type {c_type!r}"
    base = words[0]
    if base == "void":
        if stars == 0:
            return None
        t, stars = ctypes.c_void_p, stars - 1
    elif base == "char" and stars >= 1:
        t, stars = ctypes.c_char_p, stars - 1
    elif base in _SCALARS:
        t = _SCALARS[base]
    else:
        t = getattr(_lib, base, None)
        assert t is not None, f"strata._lib has no ctypes type for {base!r}"
    for _ in range(stars):
        t = ctypes.POINTER(t)
    return t


def exported_symbols(path):
    """{name: version node or ""} of the functions a shared library exports."""
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)], capture_output=True, text=True,
                         check=True).stdout
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtWiu" and parts[1] != "t":
            name, _, version = parts[2].partition("@")
            symbols[name] = version.lstrip("@")
        elif len(parts) == 3 and parts[1] in "DBRVG":  # exported data: must not exist
            symbols[parts[2].split("@")[0]] = "data"
    return symbols


def header_define(name):
    m = re.search(rf"^#define {name} \(?(-?\d+)\)?", HEADER.read_text(), flags=re.M)
    assert m, f"{name} not defined in strata.h"
    return int(m[1])


# ---- header <-> ctypes -----------------------------------------------------------------------
def test_header_parser_sees_the_known_functions():
    protos = header_prototypes()
    assert protos["strata_session_run"] == (
        "int32_t", ["strata_session * session", "int64_t batch", "const float * input",
                    "size_t input_count", "float * output", "size_t output_count"])
    assert protos["strata_version"] == ("const char *", [])
    assert len(protos) >= 18


def test_ctypes_table_declares_exactly_the_header_functions():
    assert sorted(name for name, _, _ in _lib.PROTOTYPES) == sorted(header_prototypes())


@pytest.mark.parametrize("name", sorted(header_prototypes()))
def test_ctypes_types_match_header(name):
    declared = {n: (r, a) for n, r, a in _lib.PROTOTYPES}
    assert name in declared, f"{name} is in strata.h but not in strata/_lib.py PROTOTYPES"
    ret, params = header_prototypes()[name]
    restype, argtypes = declared[name]
    want_ret = ctype_of(ret, param_name_allowed=False)
    assert restype == want_ret, f"{name}: restype {restype}, header says {ret!r}"
    assert len(argtypes) == len(params), f"{name}: {len(argtypes)} argtypes, header has {params}"
    for i, (arg, param) in enumerate(zip(argtypes, params)):
        want = ctype_of(param)
        if want != "function":
            assert arg == want, f"{name} argument {i} ({param!r}): ctypes {arg}, expected {want}"


@pytest.mark.parametrize("struct", sorted(header_structs()))
def test_ctypes_structs_match_header(struct, tmp_path):
    """Field names and types match, and ctypes' sizes and offsets equal the C compiler's."""
    fields = header_structs()[struct]
    ctype = getattr(_lib, struct, None)
    assert ctype is not None, f"strata._lib has no Structure for {struct}"
    assert [f[0] for f in ctype._fields_] == [n for _, n in fields], struct
    for (c_type, fname), (_, t) in zip(fields, ctype._fields_):
        assert t == ctype_of(c_type, param_name_allowed=False), f"{struct}.{fname}"
    source = tmp_path / "layout.c"
    lines = [f'printf("%zu\\n", sizeof({struct}));'] + [
        f'printf("%zu\\n", offsetof({struct}, {fname}));' for _, fname in fields]
    source.write_text('#include <stddef.h>\n#include <stdio.h>\n#include "strata.h"\n'
                      "int main(void) {\n" + "\n".join(lines) + "\nreturn 0;\n}\n")
    exe = tmp_path / "layout"
    subprocess.run(["cc", "-std=c11", f"-I{REPO / 'include'}", str(source), "-o", str(exe)], check=True)
    numbers = [int(v) for v in subprocess.run([str(exe)], capture_output=True, text=True,
                                              check=True).stdout.split()]
    assert numbers[0] == ctypes.sizeof(ctype), f"sizeof({struct})"
    assert numbers[1:] == [getattr(ctype, fname).offset for _, fname in fields], f"{struct} offsets"


def test_params_structs_carry_size_first():
    """ABI rule: every *_params struct starts with `size_t size` (lets it grow)."""
    params = {k: v for k, v in header_structs().items() if k.endswith("_params")}
    assert params, "no params struct found in strata.h"
    for name, fields in params.items():
        assert fields[0] == ("size_t", "size"), f"{name} does not start with size_t size"


# ---- header <-> library ----------------------------------------------------------------------
@needs_library
def test_library_exports_exactly_the_header_functions():
    exported = exported_symbols(LIBRARY)
    header = set(header_prototypes())
    missing = sorted(header - set(exported))
    extra = sorted(set(exported) - header)
    assert not missing, f"declared in strata.h but not exported by {LIBRARY}: {missing}"
    assert not extra, f"exported by {LIBRARY} but not in strata.h (version script leak?): {extra[:20]}"


@needs_library
def test_exports_carry_the_abi_version_node_and_soname():
    abi = header_define("STRATA_ABI_VERSION")
    node = f"STRATA_{abi}"
    versions = set(exported_symbols(LIBRARY).values())
    assert versions == {node}, f"symbol versions {versions}, expected {node} (strata.map)"
    assert re.search(rf"^\s*{node}\s*\{{", VERSION_SCRIPT.read_text(), flags=re.M)
    dynamic = subprocess.run(["readelf", "-d", str(LIBRARY)], capture_output=True, text=True,
                             check=True).stdout
    assert f"Library soname: [libstrata.so.{abi}]" in dynamic


@needs_library
def test_runtime_versions_match_header():
    lib = _lib.load()
    assert lib.strata_abi_version() == header_define("STRATA_ABI_VERSION")
    version = ".".join(str(header_define(f"STRATA_VERSION_{p}")) for p in ("MAJOR", "MINOR", "PATCH"))
    assert lib.strata_version().decode() == version


def test_every_version_string_is_the_header_version():
    """One version: the header's macros; the Python package, its pyproject and the converter say the same."""
    import strata
    import strata_convert
    version = ".".join(str(header_define(f"STRATA_VERSION_{p}")) for p in ("MAJOR", "MINOR", "PATCH"))
    pyproject = (REPO / "bindings" / "python" / "pyproject.toml").read_text()
    assert re.search(rf'^version = "{re.escape(version)}"$', pyproject, flags=re.M), "bindings/python/pyproject.toml"
    assert strata.__version__ == version
    assert strata_convert.__version__ == version
