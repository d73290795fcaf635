"""Agency-side pseudonymisation: keys, canonicalisation, hardened Bloom filters and tokens.

The only part of Pahichan that reads clear names, birth dates and ID numbers; it runs on the
agency's machine and writes batches (docs/interfaces.md §2) that cross boundary 1.
"""

from linkage.encoding.crypto import ENCODING_VERSION, key_id_of
from linkage.encoding.encode import EncodedBatch, Reject, encode_frame
from linkage.encoding.keys import KeyFileError, LinkageKey, read_key

__all__ = [
    "ENCODING_VERSION",
    "EncodedBatch",
    "KeyFileError",
    "LinkageKey",
    "Reject",
    "encode_frame",
    "key_id_of",
    "read_key",
]
