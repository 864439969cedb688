"""The main job end to end (what `make demo` runs), on the tiny default."""

import pytest

from v2l.data.reader import Corpus
from v2l.demo import run_demo
from v2l.lora.files import load_compact
from v2l.video.io import decode_frames

pytestmark = pytest.mark.integration


def test_demo_builds_a_corpus_predicts_and_generates(tmp_path, monkeypatch):
    # A relative output folder, as `make demo` uses: Ray workers must still find the corpus.
    monkeypatch.chdir(tmp_path)
    paths = run_demo("demo", steps=2, pairs_per_semantic=1, train_steps=2)
    corpus = Corpus(tmp_path / "demo" / "corpus")
    assert corpus.verify("train") and paths["quarantine log"].is_file()
    assert load_compact(paths["lora (compact)"]).A_pred.shape[0] == 24
    assert (paths["training checkpoint"] / "model.safetensors").is_file()
    assert paths["hypernetwork used"].name == "hypernet" and (paths["hypernetwork used"] / "card.json").is_file()
    assert len(paths["training metrics"].read_text().splitlines()) == 2
    frames, _ = decode_frames(paths["generated video"])
    assert frames.shape == (9, 48, 48, 3)
