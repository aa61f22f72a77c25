"""C2SP signed notes with Ed25519 keys, and the tlog-checkpoint text they carry.

Formats (C2SP ``signed-note`` and ``tlog-checkpoint``, as used by Go's checksum database and Rekor):

- a note is UTF-8 text ending in a newline, a blank line, then signature lines
  ``— <key name> <base64(4-byte key id || signature)>``;
- the key id is the first 4 bytes of ``SHA-256(key name || "\\n" || 0x01 || public key)``;
- a verifier key is ``<name>+<key id hex>+<base64(0x01 || public key)>``; a signing key is
  ``PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || private seed)>`` (Go's ``note`` package);
- a checkpoint's text is ``<origin>\\n<tree size>\\n<base64 root hash>\\n``.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

ALG_ED25519 = b"\x01"
SIGNATURE_PREFIX = "\u2014 "


class NoteError(ValueError):
    pass


def _key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise NoteError("A key name must be non-empty, without spaces or '+'.")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    @classmethod
    def parse(cls, text: str) -> "Verifier":
        try:
            name, id_hex, encoded = text.strip().split("+", 2)
            key_id = bytes.fromhex(id_hex)
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error) as error:
            raise NoteError("Not a verifier key of the form name+id+key.") from error
        _check_name(name)
        if len(key_id) != 4 or raw[:1] != ALG_ED25519 or len(raw) != 33:
            raise NoteError("Only Ed25519 verifier keys are supported.")
        if _key_id(name, raw[1:]) != key_id:
            raise NoteError("The verifier key's id does not match its name and key.")
        return cls(name=name, key_id=key_id, public_key=Ed25519PublicKey.from_public_bytes(raw[1:]))

    def __str__(self) -> str:
        raw = _raw_public(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(ALG_ED25519 + raw).decode()}"


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> "Signer":
        _check_name(name)
        return cls(name=name, private_key=Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> "Signer":
        try:
            private, key, name, id_hex, encoded = text.strip().split("+", 4)
            raw = base64.b64decode(encoded, validate=True)
            key_id = bytes.fromhex(id_hex)
        except (ValueError, binascii.Error) as error:
            raise NoteError("Not a signing key of the form PRIVATE+KEY+name+id+key.") from error
        _check_name(name)
        if (private, key) != ("PRIVATE", "KEY") or raw[:1] != ALG_ED25519 or len(raw) != 33:
            raise NoteError("Only Ed25519 signing keys are supported.")
        signer = cls(name=name, private_key=Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.key_id != key_id:
            raise NoteError("The signing key's id does not match its name and key.")
        return signer

    @property
    def verifier(self) -> Verifier:
        public = self.private_key.public_key()
        return Verifier(name=self.name, key_id=_key_id(self.name, _raw_public(public)), public_key=public)

    def __str__(self) -> str:
        seed = self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        key_id = self.verifier.key_id.hex()
        return f"PRIVATE+KEY+{self.name}+{key_id}+{base64.b64encode(ALG_ED25519 + seed).decode()}"

    def sign(self, text: str) -> str:
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("A note's text ends in one newline and has no blank lines.")
        signature = self.private_key.sign(text.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{SIGNATURE_PREFIX}{self.name} {encoded}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text if it carries a valid signature by ``verifier``; NoteError otherwise."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("Not a signed note.")
    text += "\n"
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("A signature line of the note is malformed.")
        name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise NoteError("A signature line of the note is malformed.") from error
        if name != verifier.name or raw[:4] != verifier.key_id:
            continue  # someone else's signature (a witness's, say): not ours to judge
        try:
            verifier.public_key.verify(raw[4:], text.encode())
        except InvalidSignature as error:
            raise NoteError("The note's signature is not valid.") from error
        return text
    raise NoteError(f"The note is not signed by {verifier.name} with key {verifier.key_id.hex()}.")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root_hash).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        lines = text.split("\n")
        try:
            origin, size, root_b64 = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
        except (IndexError, ValueError, binascii.Error) as error:
            raise NoteError("Not a checkpoint: origin, tree size and root hash expected.") from error
        if not origin or size < 0 or len(root_b64) != 32 or lines[1] != str(size):
            raise NoteError("Not a checkpoint: origin, tree size and root hash expected.")
        return cls(origin=origin, size=size, root_hash=root_b64)


def open_checkpoint(note: str, verifier: Verifier, origin: str) -> Checkpoint:
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if checkpoint.origin != origin:
        raise NoteError(f"The checkpoint is for the log {checkpoint.origin!r}, not {origin!r}.")
    return checkpoint
