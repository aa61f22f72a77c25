"""RFC 6962 / RFC 9162 Merkle tree hashing and proofs, with no storage of its own.

A tree over leaves ``D[0:n]`` is described by its *perfect* subtrees: the node at ``(level, index)``
covers leaves ``[index * 2**level, (index + 1) * 2**level)`` and, once complete, never changes. The
log stores exactly those nodes, so any root, inclusion or consistency proof for any size can be
answered from at most a few dozen stored nodes (``nodes_for_*`` say which) without re-reading the log.
"""

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index)
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    pass


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- Which perfect subtrees a range, a root or a proof is made of -----------------------------


def range_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees that make up MTH(D[start:end]), left to right (start is aligned)."""
    n = end - start
    if n <= 0:
        return []
    if n & (n - 1) == 0 and start % n == 0:
        return [(n.bit_length() - 1, start // n)]
    k = _split(n)
    return range_nodes(start, start + k) + range_nodes(start + k, end)


def _inclusion_ranges(index: int, start: int, end: int) -> list[tuple[int, int]]:
    # RFC 6962 section 2.1.1 PATH(m, D[n]), as the ranges whose hashes form the path
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if index - start < k:
        return _inclusion_ranges(index, start, start + k) + [(start + k, end)]
    return _inclusion_ranges(index, start + k, end) + [(start, start + k)]


def _consistency_ranges(m: int, start: int, end: int, whole: bool) -> list[tuple[int, int]]:
    # RFC 6962 section 2.1.2 SUBPROOF(m, D[n], b)
    n = end - start
    if m == n:
        return [] if whole else [(start, end)]
    k = _split(n)
    if m <= k:
        return _consistency_ranges(m, start, start + k, whole) + [(start + k, end)]
    return _consistency_ranges(m - k, start + k, end, False) + [(start, start + k)]


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    if not 0 <= index < size:
        raise ProofError(f"entry {index} is not in a tree of size {size}")
    return _inclusion_ranges(index, 0, size)


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of size {old_size} cannot grow into one of size {new_size}")
    if old_size in (0, new_size):
        return []
    return _consistency_ranges(old_size, 0, new_size, True)


def nodes_for(ranges: Iterable[tuple[int, int]]) -> set[Node]:
    return {node for start, end in ranges for node in range_nodes(start, end)}


def range_hash(start: int, end: int, nodes: Mapping[Node, bytes]) -> bytes:
    parts = [nodes[node] for node in range_nodes(start, end)]
    if not parts:
        return EMPTY_ROOT
    # RFC 6962 splits at the largest power of two, so the right edge folds in from the right.
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def prove(
    ranges: Sequence[tuple[int, int]], fetch: Callable[[set[Node]], Mapping[Node, bytes]]
) -> list[bytes]:
    nodes = fetch(nodes_for(ranges))
    return [range_hash(start, end, nodes) for start, end in ranges]


def root(size: int, fetch: Callable[[set[Node]], Mapping[Node, bytes]]) -> bytes:
    return range_hash(0, size, fetch(set(range_nodes(0, size))))


# --- Growing the tree --------------------------------------------------------------------------


def extend(old_size: int, frontier: Mapping[Node, bytes], leaves: Sequence[bytes]) -> dict[Node, bytes]:
    """The perfect subtrees that appending ``leaves`` (leaf hashes) completes, leaves included.

    ``frontier`` holds the perfect subtrees of the old tree's right edge (``range_nodes(0, old_size)``);
    nothing else of the old tree is needed.
    """
    new_size = old_size + len(leaves)
    known = dict(frontier)
    created: dict[Node, bytes] = {}
    for offset, value in enumerate(leaves):
        created[(0, old_size + offset)] = value
    known.update(created)
    level = 1
    while (1 << level) <= new_size:
        for index in range(old_size >> level, new_size >> level):
            value = node_hash(known[(level - 1, 2 * index)], known[(level - 1, 2 * index + 1)])
            known[(level, index)] = created[(level, index)] = value
        level += 1
    return created


# --- Checking proofs (RFC 9162 sections 2.1.3.2 and 2.1.4.2), as a verifier outside would -------


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root_hash


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if old_size > new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
