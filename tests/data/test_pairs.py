"""The pair plan: k references per target from other content of the same partition, balanced content use,
disjoint partitions, and a clear error when there is too little content."""

from __future__ import annotations

from collections import Counter

import pytest

from v2l.data.config import CorpusConfig
from v2l.data.content.item import ContentItem
from v2l.data.pairs import partition_content, plan_pairs
from v2l.errors import V2LError


def items(n: int, source: str = "photo") -> list[ContentItem]:
    return [
        ContentItem(
            id=f"{source}-{i}",
            source=source,
            caption="a picture",
            image=f"x/{i}.png",
            sha256=f"{i:064d}",
            content_hash=f"{source}{i:060d}",
            input=f"in{i}",
        )
        for i in range(n)
    ]


def test_k_references_per_target_share_semantic_and_target_not_content():
    cfg = CorpusConfig(pairs_per_semantic=6, refs_per_target=3, eval_pairs_per_semantic=2)
    specs, part = plan_pairs(items(12) + items(8, "procedural"), cfg)
    train = [s for s in specs if s.split == "train" and s.semantic == "zoom_in"]
    assert len(train) == 18
    by_target = Counter((s.key.rsplit("-", 1)[0], s.target, s.target_seed) for s in train)
    assert len(by_target) == 6 and set(by_target.values()) == {3}
    for s in specs:
        assert s.reference != s.target and "." not in s.key
        assert part[s.target] == part[s.reference] == ("train" if s.split == "train" else "eval")
    assert len({s.key for s in specs}) == len(specs)
    # Every training item is used as a target about equally often.
    uses = Counter(s.target for s in specs if s.split == "train" and s.key.endswith("-r0"))
    assert max(uses.values()) - min(uses.values()) <= 2


def test_partition_is_per_source_deterministic_and_seeded():
    cfg = CorpusConfig(val_fraction=0.25)
    content = items(12) + items(8, "procedural")
    part = partition_content(content, cfg)
    assert sum(v == "eval" for k, v in part.items() if k.startswith("photo")) == 3
    assert sum(v == "eval" for k, v in part.items() if k.startswith("procedural")) == 2
    assert partition_content(content, cfg) == part
    assert partition_content(content, CorpusConfig(seed=1)) != part
    assert plan_pairs(content, cfg)[0] == plan_pairs(content, cfg)[0]


def test_too_little_content_is_a_clear_error():
    with pytest.raises(V2LError, match="too little content"):
        plan_pairs(items(3), CorpusConfig())
