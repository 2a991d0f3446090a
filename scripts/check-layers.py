#!/usr/bin/env python3
"""Checks the import graph of the crate's modules, read from the `crate::` paths in src/.

A module is a top-level file or folder of src/ (`src/engine/*` is `engine`). Rules:
- `engine` (the transport) imports nothing from the rest of the crate;
- `adapter` deals in socket ids and encoded packets: it imports only what LIMITED lists (never
  `socket`, so no `SocketRef` crosses the adapter boundary);
- no module imports another that imports it back, directly or not (no cycle).

Test code is left out: the `tests.rs` beside a module and `test_helpers.rs` (both
`#[cfg(test)]`) drive a whole server in process, from above every layer.

Prints the graph with `-v`. Exit status 1 on a violation.
"""
import pathlib
import re
import sys

SRC = pathlib.Path(__file__).resolve().parent.parent / "src"
SELF_CONTAINED = {"engine"}
# `#[cfg(test)]` files: not part of the layers.
TEST_FILES = {"tests.rs", "test_helpers.rs"}
# Modules that may import only these.
LIMITED = {"adapter": {"engine", "error", "parser", "value"}}

def module_of(path: pathlib.Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def code_lines(text: str):
    """The lines of `text` outside comments (doc comments included: links are not imports)."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("//"):
            continue
        yield line.split("//")[0]


def reexports():
    """What the crate root re-exports: name -> the module it comes from (`crate::Name` paths)."""
    names = {}
    text = " ".join(code_lines((SRC / "lib.rs").read_text()))
    for module, rest in re.findall(r"pub use ([a-z_]+)::([^;]*);", text):
        for name in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*)\b", rest):
            names.setdefault(name, module)
    return names


def graph():
    roots = reexports()
    edges = {}
    for path in SRC.rglob("*.rs"):
        module = module_of(path)
        if module == "lib" or path.name in TEST_FILES:
            continue
        targets = edges.setdefault(module, set())
        text = " ".join(code_lines(path.read_text()))
        # `crate::{A, b::C}` groups: each first segment.
        names = []
        for group in re.findall(r"\bcrate::\{([^}]*)\}", text):
            names += re.findall(r"(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)", group)
        names += re.findall(r"\bcrate::([A-Za-z_][A-Za-z0-9_]*)", text)
        for name in names:
            if (SRC / f"{name}.rs").exists() or (SRC / name).is_dir():
                target = name
            else:
                target = roots.get(name)
            if target and target != module:
                targets.add(target)
    return edges


def cycles(edges):
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main():
    edges = graph()
    if "-v" in sys.argv:
        for module in sorted(edges):
            print(f"{module} -> {', '.join(sorted(edges[module])) or '(nothing)'}")
    failures = []
    for module in SELF_CONTAINED:
        if edges.get(module):
            failures.append(f"{module} must import nothing from the crate; it imports "
                            f"{', '.join(sorted(edges[module]))}")
    for module, allowed in LIMITED.items():
        extra = edges.get(module, set()) - allowed
        if extra:
            failures.append(f"{module} may import only {', '.join(sorted(allowed))}; it imports "
                            f"{', '.join(sorted(extra))}")
    for component in cycles(edges):
        failures.append(f"import cycle through {', '.join(sorted(component))}")
    for failure in failures:
        print(f"check-layers: {failure}")
    if failures:
        sys.exit(1)
    print(f"check-layers: ok ({len(edges)} modules, no cycle)")


if __name__ == "__main__":
    main()
