"""The built Earstage.vst3 in a real VST3 host (pedalboard), with audio pushed through it."""

import json
import time

import numpy as np
import pedalboard
import pytest

from conftest import ROOT, bundle_path

SAMPLE_RATE_HZ = 48_000.0
TRIM_MIN_DB, TRIM_MAX_DB = -24.0, 12.0
# The trim ramps over 20 ms (960 samples at 48 kHz); after that the gain is exact.
RAMP_SAMPLES = 960


def sine(freq_hz, amplitude, phase, length):
    n = np.arange(length)
    return (amplitude * np.sin(2 * np.pi * freq_hz * n / SAMPLE_RATE_HZ + phase)).astype(np.float32)


def test_loads_as_earstage():
    plugin = pedalboard.load_plugin(str(bundle_path()))
    assert plugin.name == "Earstage"
    assert plugin.is_effect


def test_parameters_by_name(plugin):
    assert "output_trim_db" in plugin.parameters
    trim = plugin.parameters["output_trim_db"]
    assert trim.min_value == pytest.approx(TRIM_MIN_DB)
    assert trim.max_value == pytest.approx(TRIM_MAX_DB)
    assert plugin.output_trim_db == pytest.approx(0.0)
    plugin.output_trim_db = -6.0
    assert plugin.output_trim_db == pytest.approx(-6.0, abs=0.05)


@pytest.mark.parametrize("channels", [1, 2])
def test_sine_passes_through_bit_exact(plugin, channels):
    audio = np.stack([sine(997.0 + 500 * c, 0.7, c, 9_600) for c in range(channels)])
    out = plugin.process(audio, SAMPLE_RATE_HZ, buffer_size=256)
    assert out.shape == audio.shape
    assert out.dtype == np.float32
    assert np.array_equal(out.view(np.uint32), audio.view(np.uint32)), "not bit-exact"


def test_trim_minus_6_db_is_the_exact_gain(plugin):
    # raw_value is the normalized value: -6 dB sits exactly half way between -24 and +12 dB.
    plugin.parameters["output_trim_db"].raw_value = (-6.0 - TRIM_MIN_DB) / (TRIM_MAX_DB - TRIM_MIN_DB)
    assert plugin.output_trim_db == pytest.approx(-6.0, abs=1e-4)
    audio = np.stack([sine(997.0, 0.7, 0.0, 9_600), sine(250.0, 0.5, 0.5, 9_600)])
    out = plugin.process(audio, SAMPLE_RATE_HZ, buffer_size=256)
    gain = 10.0 ** (-6.0 / 20.0)
    expected = audio.astype(np.float64) * gain
    error = np.abs(out[:, RAMP_SAMPLES:].astype(np.float64) - expected[:, RAMP_SAMPLES:])
    assert error.max() <= 1e-6


def test_state_round_trips_into_a_new_instance(plugin):
    plugin.output_trim_db = -3.5
    audio = np.stack([sine(997.0, 0.5, 0.0, 2_048)] * 2)
    plugin.process(audio, SAMPLE_RATE_HZ, buffer_size=256)  # let the host sync parameters
    saved = plugin.raw_state

    restored = pedalboard.load_plugin(str(bundle_path()))
    assert restored.output_trim_db == pytest.approx(0.0)
    restored.raw_state = saved
    assert restored.output_trim_db == pytest.approx(plugin.output_trim_db, abs=1e-6)
    assert restored.output_trim_db == pytest.approx(-3.5, abs=0.05)
    out = restored.process(audio, SAMPLE_RATE_HZ, buffer_size=256)
    gain = 10.0 ** (restored.output_trim_db / 20.0)
    assert np.abs(out.astype(np.float64) - audio * gain).max() <= 1e-6


def test_audition_a_changes_the_sound_and_stays_finite(plugin):
    """Listen = A in the VST3 host: the designs come from the plugin's background thread, so the
    first call asks for them and the second (after they have had time to arrive) plays them."""
    assert "listen" in plugin.parameters
    # Rig, A, B spread over the normalized range: A is half way.
    plugin.parameters["listen"].raw_value = 0.5
    rng = np.random.default_rng(5)
    audio = (0.1 * rng.standard_normal((2, 48_000))).astype(np.float32)
    plugin.process(audio[:, :4_800], SAMPLE_RATE_HZ, buffer_size=256, reset=False)
    time.sleep(0.3)
    out = plugin.process(audio, SAMPLE_RATE_HZ, buffer_size=256, reset=False)
    assert np.isfinite(out).all()
    settled = 4_800
    difference = np.abs(out[:, settled:].astype(np.float64) - audio[:, settled:])
    assert difference.max() > 1e-3, "audition A did not change the sound"
    # The default A (a low-impedance interface against the default rig on 10 ohms) is level-
    # matched: the RMS stays within a few dB of the input's.
    ratio_db = 20 * np.log10(np.sqrt(np.mean(out[:, settled:] ** 2)) / np.sqrt(np.mean(audio[:, settled:] ** 2)))
    assert abs(ratio_db) < 3.0


# JUCE (pedalboard's host) keeps a VST3 component's state as "<size>.<chars>": six bits per
# character from this table, packed least significant bit first.
JUCE_BASE64 = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"


def component_state(raw_state):
    """nice-plug's state (JSON) inside a pedalboard raw_state."""
    text = raw_state.decode("latin-1")
    start = text.index("<IComponent>") + len("<IComponent>")
    encoded = text[start:text.index("</IComponent>", start)]
    size, chars = encoded.split(".", 1)
    bits = 0
    for k, c in enumerate(chars):
        bits |= JUCE_BASE64.index(c) << (6 * k)
    component = bits.to_bytes((6 * len(chars) + 7) // 8, "little")[: int(size)]
    return json.loads(component)


def exposure_in(raw_state):
    """The exposure record in a pedalboard raw_state."""
    return json.loads(component_state(raw_state)["fields"]["exposure"])


def test_exposure_survives_save_and_load(plugin):
    """The dose is saved with the project: after a second of a 1 kHz sine (the rig's filters come
    from the plugin's background thread, so the first call asks for them), the saved state holds
    the exposure, and a new instance that loads it saves the same record and measures on from it."""
    audio = np.stack([sine(1000.0, 0.1, 0.0, 48_000)] * 2)
    plugin.process(audio[:, :4_800], SAMPLE_RATE_HZ, buffer_size=256, reset=False)
    time.sleep(0.3)
    plugin.process(audio, SAMPLE_RATE_HZ, buffer_size=256, reset=False)
    record = exposure_in(plugin.raw_state)
    assert 0.9 < record["seconds"] <= 1.2
    left, right = record["ears"]
    assert left["eardrum_pa2s"] > 0 and left["niosh_percent"] > 0
    assert left["eardrum_pa2s"] == pytest.approx(right["eardrum_pa2s"], rel=1e-9)

    restored = pedalboard.load_plugin(str(bundle_path()))
    restored.raw_state = plugin.raw_state
    assert exposure_in(restored.raw_state) == record
    restored.process(audio[:, :4_800], SAMPLE_RATE_HZ, buffer_size=256, reset=False)
    time.sleep(0.3)
    restored.process(audio, SAMPLE_RATE_HZ, buffer_size=256, reset=False)
    continued = exposure_in(restored.raw_state)
    assert continued["seconds"] > record["seconds"] + 0.9
    assert continued["ears"][0]["niosh_percent"] > left["niosh_percent"]


@pytest.mark.parametrize("sample_rate_hz", [44_100.0, 192_000.0])
@pytest.mark.parametrize("buffer_size", [1, 511, 4096])
def test_hostile_input_never_leaves(plugin, sample_rate_hz, buffer_size):
    """NaN, infinities, 1e30 and subnormals in the feed through the VST3 host at default
    settings: the non-finite samples come out as silence, subnormals as zero, everything else bit
    for bit, and nothing non-finite or subnormal leaves the plugin."""
    n = np.arange(8_192)
    clean = (0.5 * np.sin(0.13 * n)).astype(np.float32)
    audio = np.stack([clean, clean.copy()])
    audio[0, 600:900:3] = np.nan
    audio[1, 1_500:1_700:5] = np.inf
    audio[0, 2_500:2_600:7] = -np.inf
    audio[1, 3_000:3_500] = (1e30 * np.sin(0.1 * n[3_000:3_500])).astype(np.float32)
    tiny = np.frombuffer(np.arange(1, 501, dtype=np.uint32).tobytes(), dtype=np.float32)
    audio[0, 4_000:4_500] = tiny
    out = plugin.process(audio, sample_rate_hz, buffer_size=buffer_size)
    expected = np.where(np.isfinite(audio) & ((np.abs(audio) >= np.finfo(np.float32).tiny) | (audio == 0)), audio, 0)
    assert np.isfinite(out).all()
    assert not ((out != 0) & (np.abs(out) < np.finfo(np.float32).tiny)).any(), "subnormal output"
    assert np.array_equal(np.abs(out).view(np.uint32), np.abs(expected).view(np.uint32))


def test_every_field_round_trips(plugin):
    """A state with every parameter and field away from its default (the checked-in format 0
    fixture) goes into the VST3 host and comes back out with every value, dose and chains
    included."""
    with open(ROOT / "tests" / "data" / "state" / "format-0.json", "rb") as f:
        fixture = json.load(f)
    assert component_state(plugin.raw_state)["fields"]["chain"] != fixture["fields"]["chain"]
    restored = pedalboard.load_plugin(str(bundle_path()))
    restored.raw_state = with_component_state(plugin.raw_state, fixture)
    saved = component_state(restored.raw_state)
    for key in ["chain", "audition", "exposure"]:
        assert saved["fields"][key] == fixture["fields"][key], key
    # Every saved value comes back; the parameters added since format 0 come at their defaults.
    defaults = component_state(plugin.raw_state)["params"]
    for key, value in fixture["params"].items():
        assert saved["params"][key] == value, key
    added = set(saved["params"]) - set(fixture["params"])
    assert added, "format 2 added parameters"
    for key in added:
        assert saved["params"][key] == defaults[key], key
    assert json.loads(saved["fields"]["load_report"]) == []
    assert restored.output_trim_db == pytest.approx(-3.5, abs=1e-4)


def with_component_state(raw_state, state):
    """raw_state with its component state replaced by `state`. JUCE's envelope is "VC2!", the
    XML's length (u32, little-endian), then the XML; the component state inside is JUCE's
    size.chars encoding."""
    assert raw_state[:4] == b"VC2!"
    text = raw_state[8:].decode("latin-1")
    start = text.index("<IComponent>") + len("<IComponent>")
    end = text.index("</IComponent>", start)
    data = json.dumps(state).encode()
    bits = int.from_bytes(data, "little")
    chars = "".join(JUCE_BASE64[(bits >> (6 * k)) & 63] for k in range((8 * len(data) + 5) // 6))
    xml = (text[:start] + f"{len(data)}.{chars}" + text[end:]).encode("latin-1")
    return b"VC2!" + len(xml).to_bytes(4, "little") + xml
