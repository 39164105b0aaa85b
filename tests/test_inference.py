"""Tests for sklearn_tjepa.inference: embed writes each batch into one preallocated array."""

import numpy as np
import pytest
import torch

from conftest import tiny_spec
from sklearn_tjepa.inference import embed, n_outputs, pool_tokens
from sklearn_tjepa.model import build_encoder

CPU = torch.device("cpu")


@pytest.fixture
def encoder_and_rows():
    torch.manual_seed(0)
    encoder = build_encoder(tiny_spec()).eval()
    rng = np.random.default_rng(0)
    x_num = rng.normal(size=(23, 3)).astype(np.float32)
    x_cat = rng.integers(0, 3, size=(23, 2))
    return encoder, x_num, x_cat


@pytest.mark.parametrize("output, width", [("flatten", (1 + 5) * 8), ("cls", 8), ("mean", 8)])
def test_n_outputs(encoder_and_rows, output, width):
    encoder, x_num, x_cat = encoder_and_rows
    assert n_outputs(encoder, output) == width
    assert embed(encoder, x_num, x_cat, output=output, batch_size=4, device=CPU).shape == (23, width)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_embed_fills_the_given_array(encoder_and_rows, dtype):
    encoder, x_num, x_cat = encoder_and_rows
    out = np.full((23, 8), np.nan, dtype=dtype)
    returned = embed(encoder, x_num, x_cat, output="mean", batch_size=4, device=CPU, out=out)
    assert returned is out and np.isfinite(out).all()
    with torch.no_grad():
        tokens = encoder(torch.from_numpy(x_num), torch.from_numpy(x_cat))
    np.testing.assert_allclose(out, pool_tokens(tokens, "mean", 1).numpy(), rtol=1e-5, atol=1e-6)


def test_embed_refuses_an_array_of_another_shape(encoder_and_rows):
    encoder, x_num, x_cat = encoder_and_rows
    with pytest.raises(ValueError, match=r"out must have shape \(23, 8\) for 23 rows with output='cls', got out.shape=\(22, 8\)"):
        embed(encoder, x_num, x_cat, output="cls", batch_size=4, device=CPU, out=np.empty((22, 8)))
