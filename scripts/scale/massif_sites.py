#!/usr/bin/env python3
"""Where coach's heap goes at its peak, from a valgrind massif file (issue 25 item 1).

    python3 scripts/scale/massif_sites.py massif.out [--symbols N] [--top K]

Reads the peak snapshot's allocation tree and charges each byte to its *site*: the
first frame of coach's own code (`coach::…`) on the way from the allocator up the
stack, so `Vec::from_iter`, `RawVec::finish_grow` and the like are looked through to the
code that asked. Bytes with no coach frame under massif's threshold are charged to the
nearest frame outside the allocator ("outside coach: …"); massif's own "below
threshold" remainders are summed as one line. Prints MB at the peak (10^6 bytes) and,
with --symbols, KB per symbol. `run.py --massif` calls it after each run.
Standard library only.
"""
import argparse, re, sys

NODE = re.compile(r"^(\s*)n(\d+): (\d+) (.*)$")
ALLOCATOR = re.compile(r"alloc::|__rust_|core::ptr::|hashbrown::raw|<alloc::|malloc|realloc|calloc"
                       r"|spec_from_iter|spec_extend|from_iter|::clone|serde_json::de|Vec<T")


def frame_name(text):
    """`0xADDR: function (in file)` -> function; massif's notes are kept as they are."""
    m = re.match(r"0x[0-9A-F]+: (.*?)(?: \((?:in )?[^()]*\))?$", text)
    return m.group(1) if m else text


def peak_tree(path):
    """The peak snapshot's nodes as (depth, bytes, text), in file order."""
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    try:
        start = lines.index("heap_tree=peak") + 1
    except ValueError:
        raise SystemExit(f"{path}: no peak snapshot (was massif stopped before a detailed one?)")
    nodes = []
    for line in lines[start:]:
        m = NODE.match(line)
        if not m:
            break
        nodes.append((len(m.group(1)), int(m.group(3)), m.group(4)))
    return nodes


def sites(nodes):
    """Bytes per site: walks the tree, stopping at the first coach frame of each branch."""
    totals = {}
    stack = []  # (depth, name) of the ancestors of the node at hand

    # children of each node, by index
    children = {i: [] for i in range(len(nodes))}
    parents = []
    for i, (depth, _, _) in enumerate(nodes):
        while parents and nodes[parents[-1]][0] >= depth:
            parents.pop()
        if parents:
            children[parents[-1]].append(i)
        parents.append(i)

    def charge(site, n):
        totals[site] = totals.get(site, 0) + n

    def walk(i, outside):
        depth, size, text = nodes[i]
        name = frame_name(text)
        if "below massif's threshold" in text:
            charge("(below massif's threshold, many places)", size)
            return
        if "coach::" in name:
            charge(name, size)
            return
        if outside is None and i != 0 and not ALLOCATOR.search(name):
            outside = name
        kids = children[i]
        for k in kids:
            walk(k, outside)
        rest = size - sum(nodes[k][1] for k in kids)
        if rest > 0 and i != 0:
            charge(f"outside coach: {outside or name}", rest)

    if nodes:
        walk(0, None)
    return totals, (nodes[0][1] if nodes else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--symbols", type=int)
    ap.add_argument("--top", type=int, default=20)
    a = ap.parse_args()
    totals, peak = sites(peak_tree(a.file))
    print(f"peak heap (useful bytes): {peak / 1e6:.1f} MB"
          + (f", {peak / 1e3 / a.symbols:.1f} KB/symbol" if a.symbols else ""))
    for site, n in sorted(totals.items(), key=lambda kv: -kv[1])[: a.top]:
        per = f"  {n / 1e3 / a.symbols:7.1f} KB/symbol" if a.symbols else ""
        print(f"{n / 1e6:9.1f} MB{per}  {site}")


if __name__ == "__main__":
    sys.exit(main())
