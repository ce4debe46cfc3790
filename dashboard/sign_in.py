"""Who may change things: sign-in through Streamlit's own OIDC (`st.login`) when it is set up.

A teacher who serves one dashboard to a class sets up an `[auth]` section in
`.streamlit/secrets.toml` (docs/SIGN_IN.md); from then on only signed-in people can train,
resume, rename, note, cancel or delete, and everyone else can still look. Demo links never
ask. Without that section the dashboard is one person's tool on their own machine, as
before, and the home page says so when the server listens beyond this machine.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

LOCAL_ADDRESSES = {"localhost", "127.0.0.1", "::1"}


def configured() -> bool:
    """Whether sign-in is set up (an `[auth]` section in the secrets)."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, StreamlitSecretNotFoundError):
        return False


def may_change() -> bool:
    """Whether this person may train or change runs: always without sign-in set up."""
    return not configured() or bool(st.user.is_logged_in)


def sign_in_note(action: str) -> bool:
    """True when the person may `action`; otherwise one line asking them to sign in."""
    if may_change():
        return True
    st.info(f"Sign in (in the sidebar) to {action}.")
    return False


def sidebar_control() -> None:
    """Sign in or out, and who is signed in: only when sign-in is set up."""
    if not configured():
        return
    if st.user.is_logged_in:
        who = st.user.get("email") or st.user.get("name") or st.user.get("sub")
        st.sidebar.caption(f"Signed in as {who}")
        st.sidebar.button("Sign out", on_click=st.logout, key="sign_out")
    else:
        st.sidebar.button("Sign in", on_click=st.login, key="sign_in", type="primary")


def exposure_warning() -> None:
    """Say so when anyone on the network can train and delete here."""
    address = st.get_option("server.address") or "0.0.0.0"
    if configured() or address in LOCAL_ADDRESSES:
        return
    st.warning(
        f"This dashboard listens on {address}, so other machines can open it, and without "
        "sign-in anyone who does can train, rename and delete runs. Set up sign-in "
        "(docs/SIGN_IN.md) or listen on localhost only (`--server.address localhost`)."
    )
