"""RFC 6962 hashing and proofs against the Certificate Transparency test vectors, and C2SP notes."""

import hashlib

import pytest

from portal import merkle
from portal.signednote import Checkpoint, NoteError, Signer, Verifier, open_checkpoint, open_note

# The leaves and roots of RFC 6962's reference tree (certificate-transparency's merkle tree tests).
VECTOR_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
VECTOR_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, proof)
VECTOR_INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
# (old size, new size, proof)
VECTOR_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


class MemoryTree:
    """The tree grown batch by batch through ``merkle.extend``, its nodes kept in a dict."""

    def __init__(self, leaf_hashes: list[bytes], batch: int = 3):
        self.nodes: dict = {}
        self.size = 0
        for start in range(0, len(leaf_hashes), batch):
            frontier = {node: self.nodes[node] for node in merkle.range_nodes(0, self.size)}
            self.nodes.update(merkle.extend(self.size, frontier, leaf_hashes[start : start + batch]))
            self.size += len(leaf_hashes[start : start + batch])

    def fetch(self, keys):
        return {key: self.nodes[key] for key in keys}


# An independent, literal transcription of RFC 6962 section 2.1, straight from the leaves.
def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, leaves[:k], whole) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


@pytest.fixture
def vector_tree():
    return MemoryTree([merkle.leaf_hash(leaf) for leaf in VECTOR_LEAVES])


def test_roots_match_the_rfc_6962_reference_tree_at_every_size(vector_tree):
    for size, expected in enumerate(VECTOR_ROOTS):
        assert merkle.root(size, vector_tree.fetch).hex() == expected


@pytest.mark.parametrize("index, size, expected", VECTOR_INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(vector_tree, index, size, expected):
    proof = merkle.prove(merkle.inclusion_ranges(index, size), vector_tree.fetch)
    assert [p.hex() for p in proof] == expected
    leaf = merkle.leaf_hash(VECTOR_LEAVES[index])
    assert merkle.verify_inclusion(index, size, leaf, proof, bytes.fromhex(VECTOR_ROOTS[size]))


@pytest.mark.parametrize("old, new, expected", VECTOR_CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(vector_tree, old, new, expected):
    proof = merkle.prove(merkle.consistency_ranges(old, new), vector_tree.fetch)
    assert [p.hex() for p in proof] == expected
    assert merkle.verify_consistency(
        old, new, proof, bytes.fromhex(VECTOR_ROOTS[old]), bytes.fromhex(VECTOR_ROOTS[new])
    )


def test_every_proof_of_a_ragged_tree_agrees_with_the_literal_rfc_definition():
    leaves = [merkle.leaf_hash(bytes([n, n * 7 % 256])) for n in range(37)]
    tree = MemoryTree(leaves, batch=5)
    for size in range(1, 38):
        assert merkle.root(size, tree.fetch) == mth(leaves[:size])
        for index in range(size):
            proof = merkle.prove(merkle.inclusion_ranges(index, size), tree.fetch)
            assert proof == path(index, leaves[:size])
            assert merkle.verify_inclusion(index, size, leaves[index], proof, mth(leaves[:size]))
        for old in range(1, size):
            proof = merkle.prove(merkle.consistency_ranges(old, size), tree.fetch)
            assert proof == subproof(old, leaves[:size], True)
            assert merkle.verify_consistency(old, size, proof, mth(leaves[:old]), mth(leaves[:size]))


def test_a_proof_for_another_leaf_or_another_root_does_not_verify(vector_tree):
    proof = merkle.prove(merkle.inclusion_ranges(5, 8), vector_tree.fetch)
    root = bytes.fromhex(VECTOR_ROOTS[8])
    assert not merkle.verify_inclusion(5, 8, merkle.leaf_hash(b"forged"), proof, root)
    assert not merkle.verify_inclusion(4, 8, merkle.leaf_hash(VECTOR_LEAVES[5]), proof, root)
    consistency = merkle.prove(merkle.consistency_ranges(6, 8), vector_tree.fetch)
    assert not merkle.verify_consistency(6, 8, consistency, bytes.fromhex(VECTOR_ROOTS[5]), root)


def test_a_signed_checkpoint_opens_with_the_signers_verifier_key():
    signer = Signer.generate("example.org/log")
    note = signer.sign(Checkpoint(origin="example.org/log", size=8, root_hash=bytes(32)).text())
    verifier = Verifier.parse(str(signer.verifier))
    assert open_checkpoint(note, verifier, "example.org/log") == Checkpoint("example.org/log", 8, bytes(32))


def test_a_checkpoint_signed_with_another_key_is_refused():
    ours, theirs = Signer.generate("example.org/log"), Signer.generate("example.org/log")
    note = theirs.sign(Checkpoint(origin="example.org/log", size=1, root_hash=bytes(32)).text())
    with pytest.raises(NoteError, match="not signed by"):
        open_checkpoint(note, ours.verifier, "example.org/log")


def test_a_checkpoint_with_an_edited_size_is_refused():
    signer = Signer.generate("example.org/log")
    note = signer.sign(Checkpoint(origin="example.org/log", size=8, root_hash=bytes(32)).text())
    with pytest.raises(NoteError, match="not valid"):
        open_note(note.replace("\n8\n", "\n9\n"), signer.verifier)


def test_keys_round_trip_through_their_text_form():
    signer = Signer.generate("example.org/log")
    assert str(Signer.parse(str(signer))) == str(signer)
    assert str(Verifier.parse(str(signer.verifier))) == str(signer.verifier)
    assert str(signer).startswith("PRIVATE+KEY+example.org/log+")
    assert str(signer.verifier).startswith("example.org/log+")
