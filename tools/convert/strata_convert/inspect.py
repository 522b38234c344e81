"""`python -m strata_convert.inspect FILE`: validate a .strata file and print what it holds."""
import sys

from . import format as fmt
from .cli import summary
from .errors import FormatError
from .reader import parse, read_sections


def describe(data: bytes) -> str:
    """A readable listing of a valid file's sections, metadata, tensors and nodes."""
    graph = parse(data)
    major, minor = int.from_bytes(data[8:10], "little"), int.from_bytes(data[10:12], "little")
    out = [f"strata file version {major}.{minor}, {len(data):,} bytes", summary(graph), "sections:"]
    for s in read_sections(data):
        out.append(f"  {s.name:<9} offset {s.offset:>10}  size {s.size:>10}  crc32 {s.crc32:08x}")
    out.append("metadata:")
    for k in sorted(graph.metadata):
        out.append(f"  {k} = {graph.metadata[k]!r}")
    out.append("tensors:")
    for t in graph.tensors:
        out.append(f"  {t.name:<24} f32 {list(t.array.shape)}")
    out.append("nodes:")
    for n in graph.nodes:
        attrs = "".join(f" {k}={v}" for k, v in n.attrs.items())
        out.append(f"  {n.name or '-':<12} {n.op:<10} {', '.join(i or '∅' for i in n.inputs)} -> {', '.join(n.outputs)}{attrs}")
    return "\n".join(out)


def main(argv=None) -> int:
    """Print the description of each file named on the command line; exit 2 on an invalid one."""
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m strata_convert.inspect FILE.strata ...", file=sys.stderr)
        return 2
    status = 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                print(describe(f.read()))
        except FormatError as e:
            print(f"{path}: invalid ({e.status}, code {fmt.STATUS_CODES[e.status]}): {e.message}", file=sys.stderr)
            status = 2
        except OSError as e:
            print(f"{path}: {e}", file=sys.stderr)
            status = 2
    return status


if __name__ == "__main__":
    sys.exit(main())
