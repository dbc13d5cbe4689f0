#!/usr/bin/env python3
"""Fails when modules of src/ import each other in a loop, or when a layer imports a
layer above it (DESIGN.md's layer table).

A module is a file (src/wms/mod.rs is `wms`, src/wms/grid.rs is `wms::grid`). An edge
A -> B exists when A names an item of B by a `crate::`, `super::` or `self::` path
(in `use` or inline), or a child module by its bare name. Test code (`#[cfg(test)]` to the end of a file) is ignored.
Usage: scripts/check-layers.py [SRC_DIR]
"""
import pathlib
import re
import sys

SRC = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")

# Lower layers must not import higher ones. A module not listed is unconstrained.
LAYERS = [
    ["error", "metrics"],
    ["model", "subset", "storage"],
    ["readers", "features"],
    ["config", "catalog", "writers"],
    ["app", "http", "cache", "service", "auth", "site_page"],
    ["dap2", "dap4", "zarr", "edr", "wms", "stac", "thredds", "intake", "files", "opendap"],
    # The web interface shows every protocol's endpoints and the STAC index to people.
    ["web"],
    ["server"],
]
# Protocols know the app layer and the model, never each other (`opendap` dispatches
# to dap2 and dap4: the one protocol family module allowed to know two protocols).
PROTOCOLS = {"dap2", "dap4", "zarr", "edr", "wms", "stac", "thredds", "intake", "files"}
PROTOCOL_FAMILIES = {"opendap": {"dap2", "dap4"}}


def module_of(path: pathlib.Path) -> tuple:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "mod":
        parts = parts[:-1]
    if parts == ["lib"]:
        parts = []
    return tuple(parts)


def strip(code: str) -> str:
    cut = code.find("#[cfg(test)]")
    if cut >= 0:
        code = code[:cut]
    code = re.sub(r"/\*.*?\*/", "", code, flags=re.S)
    code = re.sub(r"//[^\n]*", "", code)
    code = re.sub(r'r#*"(?:.|\n)*?"#*', '""', code)
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
    return code


def expand(tree: str) -> list:
    """Expands a use tree (`a::{b, c::{d, e}}`) into paths."""
    tree = tree.strip()
    depth, start = 0, None
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                prefix = tree[:start]
                inner = tree[start + 1 : i]
                parts, d, last = [], 0, 0
                for j, c in enumerate(inner):
                    if c == "{":
                        d += 1
                    elif c == "}":
                        d -= 1
                    elif c == "," and d == 0:
                        parts.append(inner[last:j])
                        last = j + 1
                parts.append(inner[last:])
                out = []
                for p in parts:
                    if p.strip():
                        out += [prefix + q for q in expand(p)]
                return out
    return [re.sub(r"\s+as\s+\w+$", "", tree)]


def resolve(path: str, here: tuple, is_dir_mod: bool, modules: set, exports: dict | None = None) -> tuple | None:
    segs = [s for s in path.replace(" ", "").split("::") if s]
    if not segs:
        return None
    base = list(here)
    if segs[0] == "crate":
        base, segs = [], segs[1:]
    elif segs[0] in ("super", "self"):
        # In src/a/b.rs, `super` is `a`; in src/a/mod.rs, `self` is `a`.
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
    elif tuple(base + [segs[0]]) not in modules:
        return None
    best = tuple(base)
    cur = list(base)
    rest = list(segs)
    for s in segs:
        cur.append(s)
        if tuple(cur) in modules:
            best = tuple(cur)
            rest = rest[1:]
        else:
            break
    # An item a module only re-exports (`pub use child::Item`) is defined elsewhere:
    # the edge goes to where it is defined.
    seen = set()
    while exports and rest and (best, rest[0]) in exports and (best, rest[0]) not in seen:
        seen.add((best, rest[0]))
        best = exports[(best, rest[0])]
    return best


def main() -> int:
    files = {module_of(p): p for p in SRC.rglob("*.rs") if p.name != "main.rs"}
    modules = set(files)
    edges = {m: set() for m in modules}
    # Edges as written (re-exports not followed): what a module names.
    named = {m: set() for m in modules}
    exports = {}
    for m, p in files.items():
        for stmt in re.findall(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", strip(p.read_text())):
            for path in expand(stmt):
                item = path.split("::")[-1].strip()
                target = resolve(path, m, p.name == "mod.rs", modules)
                if target is not None and item and item != "*":
                    exports[(m, item)] = target
    for m, p in files.items():
        code = strip(p.read_text())
        paths = []
        for stmt in re.findall(r"\buse\s+([^;]+);", code):
            paths += expand(stmt)
        paths += re.findall(r"(?<![\w:])\w+(?:::\w+)+", code)
        for path in paths:
            if re.match(r"\s*pub(\([^)]*\))?\s", path):
                continue
            target = resolve(path, m, p.name == "mod.rs", modules, exports)
            if target is not None and target != m and target != ():
                edges[m].add(target)
            written = resolve(path, m, p.name == "mod.rs", modules)
            if written is not None and written != m and written != ():
                named[m].add(written)
    problems = []
    # Cycles (Tarjan's strongly connected components).
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(modules):
        if v not in index:
            visit(v)
    name = lambda m: "::".join(m) or "crate"
    for comp in comps:
        members = sorted(comp)
        inner = [f"{name(a)} -> {name(b)}" for a in members for b in sorted(edges[a]) if b in comp]
        problems.append("import cycle among " + ", ".join(map(name, members)) + ":\n    " + "\n    ".join(inner))
    rank = {top: i for i, layer in enumerate(LAYERS) for top in layer}
    for a, targets in edges.items():
        for b in targets:
            ta, tb = a[:1], b[:1]
            if not ta or not tb or ta == tb:
                continue
            ra, rb = rank.get(ta[0]), rank.get(tb[0])
            if ra is not None and rb is not None and rb > ra:
                problems.append(f"layer: {name(a)} (layer {ra}) imports {name(b)} (layer {rb})")
            if ta[0] in PROTOCOLS and tb[0] in PROTOCOLS:
                problems.append(f"protocols know each other: {name(a)} -> {name(b)}")
            if ta[0] in PROTOCOL_FAMILIES and tb[0] in PROTOCOLS and tb[0] not in PROTOCOL_FAMILIES[ta[0]]:
                problems.append(f"{name(a)} -> {name(b)}")
    # The reader interface (`Reader`, `ReadError`) reaches protocols through the
    # catalog; naming `readers` itself is knowing file formats.
    for a, targets in named.items():
        for b in targets:
            if a[:1] and a[0] in PROTOCOLS and b[:1] == ("readers",):
                problems.append(f"a protocol knows a file format: {name(a)} -> {name(b)}")
    for p in problems:
        print(p)
    print(f"{len(modules)} modules, {sum(map(len, edges.values()))} imports, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
