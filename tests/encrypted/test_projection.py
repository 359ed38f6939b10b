"""The preselection projection: estimate plus residual term bounds the true cosine; the basis survives a CKKS
round trip exactly."""

from __future__ import annotations

import numpy as np
import pytest

from tools.encrypted.ckks import CkksOps
from tools.encrypted.keys import load_keys
from tools.encrypted.projection import Projection, fit_projection
from tools.errors import CryptoError


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def _bounds(projection: Projection, probes: np.ndarray, templates: np.ndarray) -> np.ndarray:
    estimates = projection.features(probes) @ projection.features(templates).T
    return estimates + np.outer(projection.residual_norms(probes), projection.residual_norms(templates))


@pytest.mark.parametrize(("dim", "fit_rows"), [(128, 500), (128, 3), (512, 1000), (512, 1)])
def test_preselection_score_bounds_the_cosine(dim: int, fit_rows: int) -> None:
    rng = np.random.default_rng(dim + fit_rows)
    common = _unit(rng.normal(size=dim))
    templates = _unit(common + 0.5 * rng.normal(size=(2000, dim)) / np.sqrt(dim))  # concentrated, like dlib's
    projection = fit_projection(templates[:fit_rows], coordinates=64)
    basis = projection.basis
    np.testing.assert_allclose(basis @ basis.T, np.eye(64), atol=1e-6)
    probes = _unit(np.vstack([templates[:5] + 0.01 * rng.normal(size=(5, dim)), rng.normal(size=(5, dim))]))
    bounds = _bounds(projection, probes, templates)
    cosines = probes @ templates.T
    assert np.all(bounds >= cosines - 1e-6)
    assert np.all(bounds <= 1.0 + 1e-6)


def test_a_basis_fitted_on_templates_gives_tighter_bounds_than_a_provisional_one() -> None:
    rng = np.random.default_rng(3)
    common, directions = _unit(rng.normal(size=128)), rng.normal(size=(20, 128))

    def faces(n: int) -> np.ndarray:  # a common direction, 20 directions of variation, a little noise
        return _unit(common + 0.3 * rng.normal(size=(n, 20)) @ directions / 11.3 + 0.02 * rng.normal(size=(n, 128)))

    templates, probe = faces(3000), faces(1)
    fitted, provisional = fit_projection(templates, 64), fit_projection(templates[:1], 64)
    slack = [float(np.mean(_bounds(p, probe, templates) - templates @ probe[0])) for p in (fitted, provisional)]
    assert slack[0] < slack[1] / 4


def test_basis_decrypts_to_the_same_fingerprint(keys_dir) -> None:  # type: ignore[no-untyped-def]
    keys = load_keys(keys_dir)
    projection = fit_projection(np.random.default_rng(5).normal(size=(300, 128)), 64)
    flat = projection.flat_values()
    blobs = [keys.encrypt(flat[i : i + 4096]) for i in range(0, flat.size, 4096)]
    values = np.concatenate([keys.decrypt(b, "fresh", "basis") for b in blobs])
    assert np.abs(values[: flat.size] - flat).max() > 0  # CKKS is approximate...
    again = Projection.from_flat(values, 64, 128, projection.fingerprint())  # ...the quantized basis is exact
    np.testing.assert_array_equal(again.basis, projection.basis)
    with pytest.raises(CryptoError, match="another key or damaged"):
        Projection.from_flat(values + 1e-3, 64, 128, projection.fingerprint())
    assert isinstance(keys.ops, CkksOps)
