"""Without sign-in set up, a dashboard that other machines can open says so on its home page;
one that listens on this machine only says nothing (docs/SIGN_IN.md)."""

from __future__ import annotations

import pytest
import streamlit as st
from conftest import ROOT
from streamlit.testing.v1 import AppTest

WARNING = "other machines can open it, and without sign-in anyone who does can train"


@pytest.fixture
def listening_on():
    before = st.get_option("server.address")

    def listen(address: str) -> AppTest:
        st.config.set_option("server.address", address)
        return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()

    yield listen
    st.config.set_option("server.address", before)


@pytest.mark.parametrize(("address", "warned"), [("0.0.0.0", True), ("localhost", False)])
def test_the_home_page_warns_when_anyone_on_the_network_can_change_runs(
    listening_on, workspace, address, warned
):
    app = listening_on(address)
    assert not app.exception
    warnings = [w.value for w in app.warning]
    assert any(WARNING in w for w in warnings) is warned, warnings
    assert [b.label for b in app.sidebar.button if b.label in ("Sign in", "Sign out")] == []
