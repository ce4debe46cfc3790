"""Durations set through the environment: a bad value never stops a worker."""

from lstm_core.domain import env_settings
from lstm_core.jobs import limits


def test_a_duration_is_read_clamped_and_a_bad_one_falls_back(monkeypatch):
    monkeypatch.delenv("LSTM_CORE_SOME_S", raising=False)
    assert env_settings.seconds("LSTM_CORE_SOME_S", 30.0) == 30.0
    for value, expected in (("2.5", 2.5), ("-3", 0.0), ("soon", 30.0), ("nan", 30.0)):
        monkeypatch.setenv("LSTM_CORE_SOME_S", value)
        assert env_settings.seconds("LSTM_CORE_SOME_S", 30.0) == expected, value
    monkeypatch.setenv("LSTM_CORE_SOME_S", "0")
    assert env_settings.seconds("LSTM_CORE_SOME_S", 30.0, least=1.0) == 1.0


def test_the_silence_limit_for_a_worker_out_of_sight_can_be_set(monkeypatch):
    monkeypatch.delenv(limits.STALE_VARIABLE, raising=False)
    assert limits.stale_after_s() == 60.0
    monkeypatch.setenv(limits.STALE_VARIABLE, "5")
    assert limits.stale_after_s() == 5.0
