"""RFC 9162 arithmetic against a naive reference, checked by the README's verifier."""

import hashlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle

from .verifier import readme_verifier


def _content(i: int) -> dict:
    return {"seq": i + 1, "action": "test.event", "data": {"n": i, "note": "café"}}


def _canonical(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _naive_mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1, word for word."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + _naive_mth(leaves[:k]) + _naive_mth(leaves[k:])).digest()


class Log:
    """An in-memory log kept as the database keeps it: perfect subtrees by (level, index)."""

    def __init__(self, size: int):
        self.contents = [_content(i) for i in range(size)]
        self.leaves = [merkle.leaf_hash(_canonical(c)) for c in self.contents]
        self.nodes: dict = {}
        frontier: dict = {}
        # Appended in uneven batches, as the service does.
        start = 0
        for stop in sorted({0, size // 3, size // 2, size}):
            for level, index, digest in merkle.append_nodes(
                start, frontier, self.leaves[start:stop]
            ):
                self.nodes[(level, index)] = digest
            start = stop

    def lookup(self, nodes):
        return {node: self.nodes[node] for node in nodes}

    def head(self, size: int) -> dict:
        root = merkle.range_hashes([(0, size)], self.lookup)[0]
        return {"tree_size": size, "root_hash": root.hex()}

    def inclusion(self, seq: int, size: int) -> dict:
        path = merkle.range_hashes(merkle.inclusion_ranges(seq - 1, size), self.lookup)
        return {"leaf_index": seq - 1, "tree_size": size, "audit_path": [h.hex() for h in path]}

    def consistency(self, first: int, second: int) -> dict:
        proof = merkle.range_hashes(merkle.consistency_ranges(first, second), self.lookup)
        return {"first": first, "second": second, "proof": [h.hex() for h in proof]}


LOG = Log(300)


def test_the_readme_leaf_hash_is_the_servers():
    content = _content(7)

    assert readme_verifier()["leaf_hash"](content) == merkle.leaf_hash(_canonical(content))


@given(size=st.integers(0, 300))
def test_stored_subtrees_give_the_naive_root_for_every_size(size):
    assert LOG.head(size)["root_hash"] == _naive_mth(LOG.leaves[:size]).hex()


@given(size=st.integers(1, 300))
def test_streamed_root_equals_the_naive_root(size):
    assert merkle.root_of(iter(LOG.leaves[:size])) == (size, _naive_mth(LOG.leaves[:size]))


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300))
def test_every_leafs_inclusion_proof_verifies_with_the_readme_snippet(size):
    check = readme_verifier()["check_inclusion"]
    head = LOG.head(size)
    for seq in range(1, size + 1):
        proof = LOG.inclusion(seq, size)
        assert check(LOG.contents[seq - 1], proof, head)
        assert merkle.verify_inclusion(
            seq - 1, size, LOG.leaves[seq - 1], [bytes.fromhex(h) for h in proof["audit_path"]],
            bytes.fromhex(head["root_hash"]),
        )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(size=st.integers(2, 300), data=st.data())
def test_an_inclusion_proof_fails_for_a_wrong_leaf_index_or_path(size, data):
    check = readme_verifier()["check_inclusion"]
    head = LOG.head(size)
    seq = data.draw(st.integers(1, size))
    other = data.draw(st.integers(1, size).filter(lambda s: s != seq))
    proof = LOG.inclusion(seq, size)

    assert not check(LOG.contents[other - 1], proof, head)  # another event's content
    assert not check(LOG.contents[seq - 1] | {"action": "forged"}, proof, head)  # edited content
    assert not check(LOG.contents[seq - 1], proof | {"leaf_index": other - 1}, head)
    moved = LOG.contents[seq - 1] | {"seq": other}
    assert not check(moved, proof | {"leaf_index": other - 1}, head)  # claimed at another place
    if proof["audit_path"]:
        i = data.draw(st.integers(0, len(proof["audit_path"]) - 1))
        path = list(proof["audit_path"])
        path[i] = "00" * 32
        assert not check(LOG.contents[seq - 1], proof | {"audit_path": path}, head)
        assert not check(LOG.contents[seq - 1], proof | {"audit_path": path[:-1]}, head)
    assert not check(LOG.contents[seq - 1], proof, head | {"root_hash": "11" * 32})


def test_consistency_proofs_verify_for_every_pair_up_to_80():
    check = readme_verifier()["check_consistency"]
    for second in range(1, 81):
        new = LOG.head(second)
        for first in range(1, second + 1):
            assert check(LOG.head(first), new, LOG.consistency(first, second)), (first, second)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_consistency_proofs_verify_and_fail_when_tampered(data):
    check = readme_verifier()["check_consistency"]
    second = data.draw(st.integers(2, 300))
    first = data.draw(st.integers(1, second - 1))
    old, new = LOG.head(first), LOG.head(second)
    proof = LOG.consistency(first, second)

    assert check(old, new, proof)
    i = data.draw(st.integers(0, len(proof["proof"]) - 1))
    tampered = list(proof["proof"])
    tampered[i] = "00" * 32
    assert not check(old, new, proof | {"proof": tampered})
    assert not check(old, new, proof | {"proof": proof["proof"][:-1]})
    assert not check(old | {"root_hash": "11" * 32}, new, proof)
    assert not check(old, new | {"root_hash": "11" * 32}, proof)
    other = data.draw(st.integers(1, second - 1).filter(lambda m: m != first))
    assert not check(LOG.head(other), new, proof | {"first": other})


def test_the_pure_verifiers_agree_with_the_readme_on_consistency():
    for second in range(1, 40):
        for first in range(1, second + 1):
            proof = [bytes.fromhex(h) for h in LOG.consistency(first, second)["proof"]]
            old = bytes.fromhex(LOG.head(first)["root_hash"])
            new = bytes.fromhex(LOG.head(second)["root_hash"])
            assert merkle.verify_consistency(first, second, old, new, proof)
            assert not merkle.verify_consistency(first, second, new, old, proof) or old == new
