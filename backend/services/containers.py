"""Whether a video file is the container it claims: the top level of an MP4
(ISO base media file format boxes) or a WebM (EBML) walked from the start,
without decoding anything. Its first bytes alone (what `filetype` reads) are
easy to copy onto anything else.

No maintained pure-Python parser of both fits: pymediainfo needs a system
library, and hachoir "autofixes" what does not parse rather than refusing it.
"""

import os
import struct

EBML_HEADER = 0x1A45DFA3
DOC_TYPE = 0x4282
SEGMENT = 0x18538067
# what a WebM segment starts with: SeekHead, Info, Tracks, Cluster, Void, Cues,
# Tags, Chapters, Attachments, CRC-32
SEGMENT_CHILDREN = {
    0x114D9B74,
    0x1549A966,
    0x1654AE6B,
    0x1F43B675,
    0xEC,
    0x1C53BB6B,
    0x1254C367,
    0x1043A770,
    0x1941A469,
    0xBF,
}


def parses_as(kind: str, stream) -> bool:
    """Whether `stream` (seekable; left at its start) parses as `kind`,
    "mp4" or "webm"."""
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    try:
        return (_mp4 if kind == "mp4" else _webm)(stream, size)
    except (struct.error, ValueError, EOFError):
        return False
    finally:
        stream.seek(0)


def _read(stream, count: int) -> bytes:
    data = stream.read(count)
    if len(data) != count:
        raise EOFError
    return data


def _mp4(stream, size: int) -> bool:
    """Boxes that tile the whole file, `ftyp` first, with a `moov` (the
    movie's metadata, which every playable MP4 has)."""
    offset, types = 0, []
    while offset < size:
        stream.seek(offset)
        length, kind = struct.unpack(">I4s", _read(stream, 8))
        header = 8
        if length == 1:  # a 64-bit size follows
            (length,) = struct.unpack(">Q", _read(stream, 8))
            header = 16
        elif length == 0:  # the last box runs to the end of the file
            length = size - offset
        if length < header or offset + length > size:
            return False
        if not all(32 <= byte < 127 for byte in kind):
            return False
        types.append(kind)
        offset += length
    return bool(types) and types[0] == b"ftyp" and b"moov" in types


def _vint(stream, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer: (value, its length in bytes);
    a size of all ones (unknown) is -1."""
    first = _read(stream, 1)[0]
    if first == 0:
        raise ValueError("an EBML number longer than 8 bytes")
    length = 9 - first.bit_length()
    value = first if keep_marker else first & (0xFF >> length)
    rest = _read(stream, length - 1)
    for byte in rest:
        value = (value << 8) | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return -1, length
    return value, length


def _element(stream) -> tuple[int, int]:
    element, _ = _vint(stream, keep_marker=True)
    data_size, _ = _vint(stream, keep_marker=False)
    return element, data_size


def _webm(stream, size: int) -> bool:
    """An EBML header whose DocType is "webm", then a Segment that fits in the
    file and starts with one of a segment's own elements."""
    element, header_size = _element(stream)
    if element != EBML_HEADER or header_size < 0:
        return False
    end = stream.tell() + header_size
    if end > size:
        return False
    doc_type = None
    while stream.tell() < end:
        child, child_size = _element(stream)
        if child_size < 0 or stream.tell() + child_size > end:
            return False
        value = _read(stream, child_size)
        if child == DOC_TYPE:
            doc_type = value.rstrip(b"\0")
    if doc_type != b"webm":
        return False
    element, segment_size = _element(stream)
    if element != SEGMENT:
        return False
    if segment_size >= 0 and stream.tell() + segment_size > size:
        return False
    child, child_size = _element(stream)
    if child not in SEGMENT_CHILDREN:
        return False
    return child_size < 0 or stream.tell() + child_size <= size
