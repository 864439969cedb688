"""Everything a corpus build depends on, in one place: the same config gives byte-identical shards."""

from __future__ import annotations

from dataclasses import asdict, field
from pathlib import Path

from pydantic import ValidationError
from pydantic.dataclasses import dataclass

from v2l.data.curation.rules import CurationRules
from v2l.errors import V2LError


@dataclass(frozen=True)  # pydantic's: fields are type-checked, a wrong type is a one-line error
class CorpusConfig:
    content_dirs: tuple[str, ...] = ()
    pairs_per_semantic: int = 8  # train pairs per training semantic
    eval_pairs_per_semantic: int | None = None  # val and heldout pairs per semantic; default max(2, ceil(N / 4))
    refs_per_target: int = 1  # k references (samples) per target
    frames: int = 9
    height: int = 48
    width: int = 48
    fps: int = 8
    content_size: int = 96
    seed: int = 0
    heldout: tuple[str, ...] | None = None  # None: the fixed default zero-shot split
    val_fraction: float = 0.25  # share of content kept out of training (for val and heldout)
    photos: bool = True  # include the scikit-image photos
    procedural: int = 12  # number of procedural scenes
    shard_samples: int = 100  # samples per shard
    rules: dict = field(default_factory=dict)  # extra CurationRules fields (bounds)

    def __post_init__(self):
        if self.pairs_per_semantic < 1 or self.refs_per_target < 1:
            raise V2LError("--pairs-per-semantic and refs per target must be at least 1")
        if not 0 < self.val_fraction < 1:
            raise V2LError(f"val_fraction {self.val_fraction} must be between 0 and 1")
        if self.shard_samples < 1:
            raise V2LError("shard_samples must be at least 1")
        self.curation_rules()  # validates frames and size with a clear message

    @property
    def eval_pairs(self) -> int:
        if self.eval_pairs_per_semantic is not None:
            return self.eval_pairs_per_semantic
        return max(2, -(-self.pairs_per_semantic // 4))

    def curation_rules(self) -> CurationRules:
        return CurationRules(
            frames=self.frames,
            height=self.height,
            width=self.width,
            fps=self.fps,
            content_size=self.content_size,
            **self.rules,
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d["content_dirs"] = list(self.content_dirs)
        d["heldout"] = list(self.heldout) if self.heldout is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "CorpusConfig":
        d = dict(d)
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(d) - known)
        if unknown:
            raise V2LError(f"unknown corpus config keys {unknown}; known keys: {sorted(known)}")
        if "size" in d:
            raise V2LError("use height and width, not size, in a corpus config")
        d["content_dirs"] = tuple(str(Path(p)) for p in d.get("content_dirs") or ())
        if d.get("heldout") is not None:
            d["heldout"] = tuple(d["heldout"])
        try:
            return cls(**d)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise V2LError(f"corpus config {where}: {err['msg']} (got {err.get('input')!r})") from None

    # The name the one config loader (`v2l.config.load_config_file`) calls on every job's config.
    model_validate = from_dict
