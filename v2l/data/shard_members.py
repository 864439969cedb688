"""What a member of a corpus, latent or library tar may be called: `<key>.<member>`, the key without dots, and no
path separator anywhere. Every reader of our tars checks names here, so a hostile shard (`../../evil.json`,
`/etc/x`, a symlink member) is refused as corrupt the same way by the corpus reader, `v2l data verify` and the
LoRA library's reader: `check_member_name(name, shard)` for one name, `check_shard_members(path)` for a tar.
"""

from __future__ import annotations

import tarfile
import unicodedata
from pathlib import Path

from v2l.errors import V2LError

MAX_MEMBER_BYTES = 256 << 20  # a shard member above this is not a sample's clip or latent: refuse rather than load it


class CorruptShardError(V2LError):
    pass


def _corrupt(shard) -> str:
    return f"shard {shard} is corrupt"


def check_member_name(name: str, shard: str | Path = "shard") -> tuple[str, str]:
    """`<key>.<member>` -> (key, member); anything else raises CorruptShardError naming the shard and the member."""
    why = None
    if "/" in name or "\\" in name:
        why = "has a path separator"
    elif any(unicodedata.category(c) == "Cc" for c in name):
        why = "has a control character"
    else:
        key, dot, member = name.partition(".")
        if not dot or not key or not member:
            why = "is not <key>.<member>"
        elif member.startswith(".") or member.endswith(".") or ".." in member:
            why = "has an empty part between dots"
        else:
            return key, member
    raise CorruptShardError(
        f"{_corrupt(shard)}: member {name!r} {why} (members must be named <key>.<member>, the "
        f"key without dots or slashes); rebuild it and do not use files from unknown sources"
    )


def check_member(member: tarfile.TarInfo, shard: str | Path = "shard") -> tuple[str, str]:
    """A tar member must be a regular file of bounded size with a valid name."""
    key, ext = check_member_name(member.name, shard)
    if not member.isfile():
        kind = (
            "symlink"
            if member.issym()
            else "hard link"
            if member.islnk()
            else "folder"
            if member.isdir()
            else "special file"
        )
        raise CorruptShardError(f"{_corrupt(shard)}: member {member.name!r} is a {kind}, not a file; rebuild it")
    if member.size > MAX_MEMBER_BYTES:
        raise CorruptShardError(
            f"{_corrupt(shard)}: member {member.name!r} is {member.size:,} bytes, too large for a sample; rebuild it"
        )
    return key, ext


def check_shard_members(path: str | Path) -> int:
    """Check every member of a tar without reading its data; returns the number of samples (distinct keys)."""
    keys: set[str] = set()
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                keys.add(check_member(member, path)[0])
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CorruptShardError(
            f"shard {path} cannot be read as a tar ({type(exc).__name__}: {exc}); restore it or rebuild the corpus"
        ) from None
    return len(keys)
