"""The dashboard's helpers: widgets and views the pages share. Streamlit only; the engine
is reached through `lstm_core.api`."""
