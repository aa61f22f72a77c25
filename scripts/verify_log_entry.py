"""Check an entry of the Fuldmagt audit log on your own machine, without trusting the portal.

    python verify_log_entry.py proof.json 'fuldmagt.localhost/audit-log+c5964f06+Afa8...'

``proof.json`` is what the portal shows under "Recorded in the log as entry N"; the second
argument is the log's public key (published at /api/v1/log/key and in the README). Needs only
Python 3 and the ``cryptography`` package; nothing here imports the portal.
"""

import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def check_signature(note: str, key: str) -> list[str]:
    """The checkpoint's lines (origin, size, root) if the log's key signed it (C2SP signed note)."""
    name, key_id, public = key.split("+", 2)
    raw = base64.b64decode(public)
    text, _, signatures = note.rpartition("\n\n")
    for line in signatures.splitlines():
        signer, _, signature = line.removeprefix("\u2014 ").partition(" ")
        signature = base64.b64decode(signature)
        if signer == name and signature[:4].hex() == key_id:
            Ed25519PublicKey.from_public_bytes(raw[1:]).verify(signature[4:], (text + "\n").encode())
            return text.split("\n")
    raise SystemExit("The checkpoint is not signed with this key.")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2."""
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn & 1 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise SystemExit("The proof has the wrong length for this tree size.")
    return r


def main(path: str, key: str) -> None:
    with open(path, encoding="utf-8") as file:
        proof = json.load(file)
    _origin, size, root = check_signature(proof["checkpoint"], key)
    if int(size) != proof["tree_size"]:
        raise SystemExit("The proof is for another tree size than the checkpoint.")
    leaf = hashlib.sha256(b"\x00" + proof["entry"].encode()).digest()
    path_hashes = [base64.b64decode(h) for h in proof["inclusion_proof"]]
    if root_from_inclusion_proof(proof["index"], int(size), leaf, path_hashes) != base64.b64decode(root):
        raise SystemExit("The entry is NOT in the log the checkpoint describes.")
    print(f"Entry {proof['index']} is in the log of {size} entries signed by {key.split('+')[0]}:")
    print(proof["entry"])


if __name__ == "__main__":
    main(*sys.argv[1:3])
