"""The call graph of a MIR module and its strongly connected components.

One iterative Tarjan (no Python recursion, so ten thousand chained functions
are fine) serves the inliner (callees first, never inline recursion) and the
backends (which calls may recurse and so need a stack check).
"""

from __future__ import annotations

from simple_jit.mir.ir import Module


def call_graph(module: Module) -> dict[str, list[str]]:
    """Each function's direct callees among the module's own functions."""
    funcs = module.functions
    return {
        name: [
            ins.extra
            for blk in f.blocks
            for ins in blk.instrs
            if ins.op == "call" and isinstance(ins.extra, str) and ins.extra in funcs
        ]
        for name, f in funcs.items()
    }


def strongly_connected(module: Module) -> tuple[list[str], dict[str, frozenset[str]]]:
    """Functions callees-first, and for each the members of its call-graph cycle.

    The cycle is empty for a function that cannot reach itself.
    """
    graph = call_graph(module)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    order: list[str] = []
    cycles: dict[str, frozenset[str]] = {}
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]  # (node, next edge to follow)
        while work:
            node, pos = work.pop()
            if pos == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            edges = graph[node]
            if pos < len(edges):
                work.append((node, pos + 1))
                nxt = edges[pos]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                scc: list[str] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    scc.append(w)
                    if w == node:
                        break
                members = frozenset(scc)
                cyclic = len(scc) > 1 or node in graph[node]
                for w in scc:
                    cycles[w] = members if cyclic else frozenset()
                order.extend(scc)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return order, cycles
