"""The published anchors: cited, flagged, converted to our units."""

import pytest

from sklearn_tjepa.bench.reference import ANCHORS, SOURCES, anchors_for, in_our_units


def test_every_anchor_cites_a_source_and_standardised_ones_are_flagged():
    for anchor in ANCHORS:
        assert anchor.source in SOURCES
        if anchor.standardised:
            assert anchor.code == "california_CA" and anchor.caveat.startswith("not comparable")
        if anchor.source == "tjepa":
            assert anchor.caveat.startswith("not comparable")


def test_standardised_figures_are_converted_with_our_target_std():
    std = 1.154
    paper = {(a.model, a.setting): a for a in anchors_for("california_CA") if a.source == "tjepa"}
    assert in_our_units(paper["mlp", "raw"], std) == pytest.approx(0.598, abs=5e-4)
    assert in_our_units(paper["mlp", "+T-JEPA"], std) == pytest.approx(0.540, abs=5e-4)
    assert in_our_units(paper["resnet", "+T-JEPA"], std) == pytest.approx(0.509, abs=5e-4)
    assert in_our_units(paper["mlp", "raw"], None) is None
    gorishniy = next(a for a in anchors_for("california_CA") if a.source == "gorishniy2021")
    assert in_our_units(gorishniy, None) == gorishniy.score


def test_the_tuned_figures_of_gorishniy_et_al():
    figures = {(a.code, a.model): a.score for a in ANCHORS if a.source == "gorishniy2021"}
    assert figures["california_CA", "catboost"] == 0.431
    assert figures["adult_AD", "ft_transformer"] == 0.859
    assert figures["higgs_HI", "resnet"] == 0.727
    assert figures["jannis_JA", "ft_transformer"] == 0.732
