"""End-to-end training on small data: every loss learns, digits learn, pairs learn."""

import itertools

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from surematch.config import Config
from surematch.data.samples import GroupedTexts, TextPairs
from surematch.encoders.image import ImageEncoder
from surematch.encoders.vectors import PrecomputedVectors
from surematch.errors import SurematchError
from surematch.training import train
from surematch.training.module import linear_schedule
from surematch.training.validation import leave_one_out_p_at_1


def noisy_clusters(n_groups=40, per_group=6, dim=32, signal_dims=4, seed=0):
    """Groups that differ in a few dimensions, buried under loud noise in the others."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_groups, signal_dims))
    x = rng.normal(scale=3.0, size=(n_groups * per_group, dim))
    labels = np.repeat(np.arange(n_groups), per_group)
    x[:, :signal_dims] = centres[labels] + rng.normal(scale=0.15, size=(len(x), signal_dims))
    ids = [f"item{i}" for i in range(len(x))]
    return PrecomputedVectors(dim, ids, x), GroupedTexts.from_labels(ids, labels.tolist(), "syn")


def quick_config(**overrides) -> Config:
    base = {"head": [{"kind": "linear"}], "data": {"held_out_fraction": 0.25},
            "train": {"epochs": 25, "groups_per_batch": 16, "patience": 25, "lr": 1e-2}}
    for key, value in overrides.items():
        base[key] = value
    return Config.validated(base)


@pytest.mark.parametrize(("loss", "lr"), [("multiple_negatives", 1e-2), ("supcon", 1e-2),
                                         ("all_pairs", 1e-1),
                                         pytest.param("triplet", 1e-2, marks=pytest.mark.slow)])
def test_every_group_loss_learns_to_ignore_the_noise(loss, lr):
    encoder, groups = noisy_clusters()
    held = [i for i, g in enumerate(groups.groups) if int(g.split("/")[1]) >= 30]
    labels = torch.tensor([int(groups.groups[i].split("/")[1]) for i in held])
    before = leave_one_out_p_at_1(encoder.table[held], labels)
    config = quick_config(loss={"name": loss},
                          train={"epochs": 25, "groups_per_batch": 16, "patience": 25, "lr": lr})
    model = train(config, groups, encoder=encoder, progress=False)
    after = leave_one_out_p_at_1(torch.from_numpy(model.embed(encoder.table[held].numpy())),
                                 labels)
    assert before < 0.6 and after > before + 0.2, (loss, before, after)
    assert model.info["best_val_p_at_1"] is not None


def test_pairs_learn_with_the_contrastive_loss():
    encoder, groups = noisy_clusters(n_groups=30, per_group=4)
    rng = np.random.default_rng(1)
    a, b, y = [], [], []
    for _ in range(600):
        i, j = rng.integers(0, len(groups), size=2)
        a.append(groups.texts[i]), b.append(groups.texts[j])
        y.append(float(groups.groups[i] == groups.groups[j]))
    for i in range(0, len(groups), 2):  # make sure positives are plentiful
        a.append(groups.texts[i]), b.append(groups.texts[i + 1]), y.append(1.0)
    config = quick_config(loss={"name": "contrastive"}, data={"held_out_fraction": 0.0})
    model = train(config, TextPairs(a, b, y), encoder=encoder, progress=False)
    z = model.embed(encoder.table.numpy())
    labels = torch.tensor([int(g.split("/")[1]) for g in groups.groups])
    assert leave_one_out_p_at_1(torch.from_numpy(z), labels) > \
        leave_one_out_p_at_1(encoder.table, labels) + 0.2


def test_group_losses_learn_from_pairs_joined_into_groups():
    encoder, groups = noisy_clusters()
    chain = [i for i in range(len(groups) - 1) if groups.groups[i] == groups.groups[i + 1]]
    a = [groups.texts[i] for i in chain]  # (0, 1), (1, 2), (2, 3): one group of four
    b = [groups.texts[i + 1] for i in chain]
    config = quick_config(data={"held_out_fraction": 0.2})
    model = train(config, TextPairs(a, b, [1.0] * len(a)), encoder=encoder, progress=False)
    labels = torch.tensor([int(g.split("/")[1]) for g in groups.groups])
    after = leave_one_out_p_at_1(torch.from_numpy(model.embed(encoder.table.numpy())), labels)
    assert after > leave_one_out_p_at_1(encoder.table, labels) + 0.1


@pytest.mark.slow
def test_digits_learn_end_to_end_with_the_image_encoder():
    digits = load_digits()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(digits.images))
    train_idx, test_idx = order[:1400], order[1400:]
    images = digits.images[train_idx].astype(np.float32)
    groups = GroupedTexts.from_labels([str(i) for i in train_idx],
                                      digits.target[train_idx].tolist(), "digits")
    config = Config.validated({
        "encoder": {"kind": "image_cnn", "params": {"dim": 32, "width": 16, "scale": 16.0}},
        "head": [{"kind": "skip"}], "loss": {"name": "supcon"},
        "data": {"held_out_fraction": 0.0},
        "train": {"epochs": 6, "groups_per_batch": 10, "per_group": 16, "lr": 1e-2}})
    model = train(config, groups, encoder=ImageEncoder(dim=32, width=16, scale=16.0),
                  items=list(images), progress=False)
    z = model.embed(list(digits.images[test_idx].astype(np.float32)))
    p1 = leave_one_out_p_at_1(torch.from_numpy(z), torch.from_numpy(digits.target[test_idx]))
    assert p1 > 0.7  # chance is 0.1


def test_too_few_groups_is_a_clear_error():
    encoder, groups = noisy_clusters(n_groups=1, per_group=3)
    with pytest.raises(SurematchError, match="fewer than two groups"):
        train(quick_config(data={"held_out_fraction": 0.0}), groups, encoder=encoder,
              progress=False)


def test_a_pair_loss_on_groups_says_what_to_do():
    encoder, groups = noisy_clusters(n_groups=4)
    with pytest.raises(SurematchError, match="choose a group loss"):
        train(quick_config(loss={"name": "contrastive"}), groups, encoder=encoder,
              progress=False)


@pytest.mark.slow
def test_fine_tuning_trains_the_encoder_and_saves_its_weights(tmp_path):
    from surematch.model import SimilarityModel

    texts = ["nurse", "registered nurse", "truck driver", "lorry driver", "chef", "head cook"]
    groups = GroupedTexts.from_labels(texts, [0, 0, 1, 1, 2, 2], "jobs")
    config = Config.validated({"encoder": {"fine_tune": True, "lr": 1e-4},
                               "head": [{"kind": "skip"}], "data": {"held_out_fraction": 0.0},
                               "train": {"epochs": 2, "groups_per_batch": 3}})
    model = train(config, groups, progress=False)
    assert model.encoder.identity().startswith("text:model:tuned:")
    model.save(tmp_path / "m")
    assert (tmp_path / "m" / "encoder.safetensors").is_file()
    loaded = SimilarityModel.load(tmp_path / "m")
    np.testing.assert_allclose(loaded.embed(texts), model.embed(texts), atol=1e-5)


@pytest.mark.slow
def test_the_group_loss_makes_the_feature_groups_tell_groups_apart():
    encoder, groups = noisy_clusters()
    labels = torch.tensor([int(g.split("/")[1]) for g in groups.groups])
    head = [{"kind": "feature_groups", "groups": 8, "size": 8, "skip_dim": 32}]

    def groups_alone_p_at_1(weight: float) -> float:
        config = quick_config(head=head, train={"epochs": 15, "groups_per_batch": 16,
                                                "patience": 15, "lr": 0.1,
                                                "group_loss_weight": weight})
        model = train(config, groups, encoder=encoder, progress=False)
        with torch.no_grad():
            block = model.head.probabilities_from_output(model.head(encoder.table))
        return leave_one_out_p_at_1(block.flatten(1), labels)

    without, with_loss = groups_alone_p_at_1(0.0), groups_alone_p_at_1(1.0)
    assert with_loss > 0.4 and with_loss > without + 0.15, (without, with_loss)


def test_negatives_are_batched_together_every_epoch(monkeypatch):
    """`train(negatives=...)`: each pair of groups shares a batch in every epoch trained."""
    from surematch.training import fit
    from surematch.training.batches import GroupBatches

    epochs: list[list[set[str]]] = []
    encoder, groups = noisy_clusters(n_groups=24, per_group=3)
    names = np.array(sorted(set(groups.groups)))  # the integer labels' group ids

    class Recorded(GroupBatches):
        def new_epoch(self) -> None:
            super().new_epoch()
            epochs.append([set(names[self.labels_of[b]].tolist()) for b in self.batches])

        def __init__(self, labels, *args, **kwargs):
            self.labels_of = labels
            super().__init__(labels, *args, **kwargs)

    monkeypatch.setattr(fit, "GroupBatches", Recorded)
    pairs = [("syn/0", "syn/17"), ("syn/5", "syn/23")]
    config = quick_config(data={"held_out_fraction": 0.0},
                          train={"epochs": 3, "groups_per_batch": 4, "lr": 1e-2})
    model = train(config, groups, encoder=encoder, progress=False, negatives=pairs)
    assert model.info["epochs_run"] == 3 and len(epochs) >= 3
    for batches in epochs:
        assert all(len(b) <= 4 for b in batches)
        for a, b in pairs:
            assert any({a, b} <= batch for batch in batches), (a, b, batches)
    with pytest.raises(SurematchError, match="does not hold: syn/99"):
        train(config, groups, encoder=encoder, progress=False, negatives=[("syn/0", "syn/99")])


def test_the_linear_schedule_warms_up_then_falls_to_zero():
    factors = [linear_schedule(step, 10, 2) for step in range(10)]
    assert factors[:3] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert all(a > b for a, b in itertools.pairwise(factors[2:]))
    assert factors[-1] == pytest.approx(1 / 8) and linear_schedule(10, 10, 2) == 0.0
    assert linear_schedule(0, 10, 0) == 1.0  # no warmup: full rate from the first step


def test_a_linear_schedule_learns_to_ignore_the_noise():
    encoder, groups = noisy_clusters()
    held = [i for i, g in enumerate(groups.groups) if int(g.split("/")[1]) >= 30]
    labels = torch.tensor([int(groups.groups[i].split("/")[1]) for i in held])
    before = leave_one_out_p_at_1(encoder.table[held], labels)
    config = quick_config(train={"epochs": 25, "groups_per_batch": 16, "patience": 25,
                                 "lr": 4e-2, "schedule": "linear", "warmup": 0.1})
    model = train(config, groups, encoder=encoder, progress=False)
    after = leave_one_out_p_at_1(torch.from_numpy(model.embed(encoder.table[held].numpy())),
                                 labels)
    assert after > before + 0.2, (before, after)
