"""The f32 GEMM tiles compile to NEON fmla with no spill in their inner loop, on aarch64.

    python tools/arm/check_tiles.py OBJDUMP StrataKernels.o [qdot_i8_sdot.o]

For each register-blocked tile gemmTile{R}x16 (Generated/GemmTiles.swift) and igemmTile{R}x16 (the
indirect GEMM's, Generated/IndirectGemmTiles.swift) of the aarch64 build, each function on its own,
finds its inner k loop (the backward branch whose body holds the most fmla) and checks that
the loop body holds exactly 4·R fmla (R rows × 16 columns / 4 lanes, one per accumulator) and no
load or store through sp (a spilled accumulator). Exits 1 naming the tile that fails.

With the sdot object (Sources/CStrataSIMD/qdot_i8_sdot.c, its R-row tiles inlined into
strataimpl_qdot_i8_sdot), checks the same of the int8 kernel: for each R of 1 to 4 a loop of
4 quads × R rows × 4 column groups = 16·R sdot with no stack access (a tile's 4-quad k loop).
"""
import re
import subprocess
import sys

TILE = re.compile(r"^([0-9a-f]+) <(.*?(i?)gemmTile(\d)x16.*)>:$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
BRANCH_TARGET = re.compile(r"0x([0-9a-f]+)")


def tiles(disassembly: str) -> dict:
    """(tile family, rows) -> list of (address, mnemonic, operands) of that tile's function. One
    entry per function: with function sections every function starts at address 0, so two tiles'
    code in one list would overlap."""
    out, current = {}, None
    for line in disassembly.splitlines():
        m = TILE.match(line)
        if m:
            key = (m.group(3) + "gemmTile", int(m.group(4)))
            if key in out:
                print(f"check_tiles: two functions named like {key[0]}{key[1]}x16 ({m.group(2)})")
                sys.exit(1)
            current = out.setdefault(key, [])
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


def function(disassembly: str, name: str) -> list:
    """(address, mnemonic, operands) of the function `name`."""
    code, inside = [], False
    for line in disassembly.splitlines():
        if re.match(r"^[0-9a-f]+ <", line):
            inside = line.rstrip().endswith(f"<{name}>:")
            continue
        i = INSN.match(line)
        if inside and i:
            code.append((int(i.group(1), 16), i.group(2), i.group(3)))
    return code


def loops(code: list) -> list:
    """The bodies of every backward branch in `code`."""
    out = []
    for address, mnemonic, operands in code:
        if not (mnemonic == "b" or mnemonic.startswith(("b.", "cbnz", "cbz", "tbnz", "tbz"))):
            continue
        t = BRANCH_TARGET.search(operands)
        if t and int(t.group(1), 16) < address:
            out.append([c for c in code if int(t.group(1), 16) <= c[0] <= address])
    return out


def stack_accesses(body: list) -> list:
    """The instructions of `body` that address memory through sp."""
    return [c for c in body if "sp" in re.split(r"[\s,\[\]!#]+", c[2])]


def check_sdot(objdump: str, path: str) -> bool:
    """True when strataimpl_qdot_i8_sdot has, for each R of 1 to 4, a 16·R-sdot loop without spills."""
    disassembly = subprocess.run([objdump, "-d", "--no-show-raw-insn", path], capture_output=True, text=True,
                                 check=True).stdout
    bodies = loops(function(disassembly, "strataimpl_qdot_i8_sdot"))
    ok = True
    for rows in (1, 2, 3, 4):
        clean = [b for b in bodies if sum(c[1] == "sdot" for c in b) == 16 * rows and not stack_accesses(b)]
        ok &= bool(clean)
        print(f"check_tiles: qdot_i8_sdot {rows}-row tile: " + (f"a {len(clean[0])}-instruction loop of {16 * rows} sdot, "
              f"no stack access" if clean else f"no loop of {16 * rows} sdot without stack access  <-- FAIL"))
    return ok


def main(argv: list) -> int:
    disassembly = subprocess.run([argv[1], "-d", "--no-show-raw-insn", argv[2]], capture_output=True, text=True,
                                 check=True).stdout
    found = tiles(disassembly)
    if not found:
        print("check_tiles: no gemmTile{R}x16 function in the object")
        return 1
    failed = False
    for family, rows in sorted(found):
        body = inner_loop(found[(family, rows)])
        fmla = sum(c[1] == "fmla" for c in body)
        stack = [c for c in body if "sp" in re.split(r"[\s,\[\]!#]+", c[2])]
        ok = fmla == 4 * rows and not stack
        failed |= not ok
        print(f"check_tiles: {family}{rows}x16 inner loop: {len(body)} instructions, {fmla} fmla "
              f"(want {4 * rows}), {len(stack)} stack accesses{'' if ok else '  <-- FAIL'}")
    if len(argv) > 3:
        failed |= not check_sdot(argv[1], argv[3])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
