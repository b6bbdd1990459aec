"""Rendered files shared by the envelope tests."""

from __future__ import annotations

import pytest

from mailer.envelopes import PROFILES, reasons_for, render_envelopes

from .helpers import PIECE_FACTORIES, SENDERS, RenderedFile


@pytest.fixture(scope="session")
def rendered_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RenderedFile]:
    """Three pieces of each profile, rendered once for the session."""
    files = {}
    for key, profile in PROFILES.items():
        pieces = tuple(PIECE_FACTORIES[key](number) for number in (1, 2, 3))
        path = tmp_path_factory.mktemp(key) / "envelopes.pdf"
        render_envelopes(pieces, profile=profile, sender=SENDERS[key], reasons=reasons_for(profile), out=path)
        files[key] = RenderedFile(profile, pieces, path)
    return files


@pytest.fixture(params=sorted(PROFILES))
def rendered(request: pytest.FixtureRequest, rendered_files: dict[str, RenderedFile]) -> RenderedFile:
    return rendered_files[request.param]


@pytest.fixture
def rendered_cn(rendered_files: dict[str, RenderedFile]) -> RenderedFile:
    return rendered_files["cn-dl"]


@pytest.fixture
def rendered_us(rendered_files: dict[str, RenderedFile]) -> RenderedFile:
    return rendered_files["us-10"]
