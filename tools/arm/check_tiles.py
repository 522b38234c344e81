"""The f32 GEMM tiles compile to NEON fmla with no spill in their inner loop, on aarch64.

    python tools/arm/check_tiles.py OBJDUMP StrataKernels.o

For each register-blocked tile gemmTile{R}x16 (StrataKernels/SIMD/GemmTiles.swift) of the aarch64
build, finds its inner k loop (the backward branch whose body holds the most fmla) and checks that
the loop body holds exactly 4·R fmla (R rows × 16 columns / 4 lanes, one per accumulator) and no
load or store through sp (a spilled accumulator). Exits 1 naming the tile that fails.
"""
import re
import subprocess
import sys

TILE = re.compile(r"^([0-9a-f]+) <(.*gemmTile(\d)x16.*)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
BRANCH_TARGET = re.compile(r"0x([0-9a-f]+)")


def tiles(disassembly: str) -> dict:
    """Tile rows -> list of (address, mnemonic, operands) of that tile's function."""
    out, current = {}, None
    for line in disassembly.splitlines():
        m = TILE.match(line)
        if m:
            current = out.setdefault(int(m.group(3)), [])
            continue
        if line.strip() == "" or re.match(r"^[0-9a-f]+ <", line):
            current = None
            continue
        i = INSN.match(line)
        if current is not None and i:
            current.append((int(i.group(1), 16), i.group(2), i.group(3)))
    return out


def inner_loop(code: list) -> list:
    """The instructions of the backward branch's body that holds the most fmla."""
    best = []
    for address, mnemonic, operands in code:
        if not (mnemonic == "b" or mnemonic.startswith(("b.", "cbnz", "cbz", "tbnz", "tbz"))):
            continue
        t = BRANCH_TARGET.search(operands)
        if not t or int(t.group(1), 16) >= address:
            continue
        body = [c for c in code if int(t.group(1), 16) <= c[0] <= address]
        if sum(c[1] == "fmla" for c in body) > sum(c[1] == "fmla" for c in best):
            best = body
    return best


def main(argv: list) -> int:
    disassembly = subprocess.run([argv[1], "-d", "--no-show-raw-insn", argv[2]], capture_output=True, text=True,
                                 check=True).stdout
    found = tiles(disassembly)
    if not found:
        print("check_tiles: no gemmTile{R}x16 function in the object")
        return 1
    failed = False
    for rows in sorted(found):
        body = inner_loop(found[rows])
        fmla = sum(c[1] == "fmla" for c in body)
        stack = [c for c in body if "sp" in re.split(r"[\s,\[\]!#]+", c[2])]
        ok = fmla == 4 * rows and not stack
        failed |= not ok
        print(f"check_tiles: gemmTile{rows}x16 inner loop: {len(body)} instructions, {fmla} fmla "
              f"(want {4 * rows}), {len(stack)} stack accesses{'' if ok else '  <-- FAIL'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
