"""RFC 9162 (Certificate Transparency v2) Merkle tree arithmetic: pure, no database.

Leaf i of the audit log is the event with seq = i + 1. Hashes are raw 32-byte SHA-256 digests;
callers convert to hex at the edge.

The tree over n leaves is a row of perfect subtrees, largest first, one per set bit of n, each at
a position aligned to its size ("pieces"); every node a proof needs is either such a perfect
subtree or the fold of a row of them. Storage keeps perfect subtrees as (level, index): the one
covering leaves [index * 2**level, (index + 1) * 2**level). A proof is therefore computed in two
steps: name the ranges it needs (`inclusion_ranges`, `consistency_ranges`), then hash each range
from its pieces (`pieces`, `fold`), which storage reads in one query.
"""

import hashlib
from collections.abc import Callable, Iterable

Node = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(canonical_content: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + canonical_content).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def pieces(start: int, end: int) -> list[Node]:
    """The aligned perfect subtrees that make up the RFC subtree over [start, end), largest first.

    Holds for every range the RFC recursion produces: start is a multiple of a power of two at
    least as large as the range.
    """
    nodes = []
    size = end - start
    while size:
        level = size.bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
        size -= 1 << level
    return nodes


def fold(hashes: list[bytes]) -> bytes:
    """MTH of a row of perfect subtrees, largest first: the right-hand ones combine first."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose MTH make PATH(index, D[0:size]) (RFC 9162 section 2.1.3.1), in order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    return path[::-1]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose MTH make PROOF(first, D[0:second]) (RFC 9162 section 2.1.4.1), in order."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from {first} to {second} leaves")
    proof: list[Range] = []
    start, end, m, complete = 0, second, first, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append((start + k, end))
            end = start + k
        else:
            proof.append((start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        proof.append((start, end))
    return proof[::-1]


def range_hashes(ranges: list[Range], lookup: Callable[[list[Node]], dict[Node, bytes]]):
    """MTH of each range, reading every perfect subtree they need in one `lookup` call."""
    wanted = [pieces(start, end) for start, end in ranges]
    known = lookup(sorted({node for nodes in wanted for node in nodes}))
    return [fold([known[node] for node in nodes]) for nodes in wanted]


def append_nodes(size: int, frontier: dict[Node, bytes], leaves: Iterable[bytes]):
    """Perfect subtrees completed by appending `leaves` to a tree of `size` leaves.

    `frontier` holds the pieces of the tree so far (`pieces(0, size)`); it is updated in place,
    so it stays the frontier of the grown tree for the next batch. Yields (level, index, hash).
    """
    for leaf in leaves:
        level, index, digest = 0, size, leaf
        frontier[(0, index)] = digest
        yield 0, index, digest
        while index & 1:
            digest = node_hash(frontier.pop((level, index - 1)), digest)
            del frontier[(level, index)]
            level, index = level + 1, index >> 1
            frontier[(level, index)] = digest
            yield level, index, digest
        size += 1


def root_of(leaves: Iterable[bytes]) -> tuple[int, bytes]:
    """(size, MTH) of a stream of leaf hashes, holding only O(log n) hashes in memory."""
    frontier: dict[Node, bytes] = {}
    size = 0
    for level, _, _ in append_nodes(0, frontier, leaves):
        size += level == 0
    return size, fold([frontier[node] for node in pieces(0, size)])


# Verification, as a client does it (RFC 9162 sections 2.1.3.2 and 2.1.4.2).


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, path: list[bytes], root: bytes
) -> bool:
    if leaf_index >= tree_size or leaf_index < 0:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
