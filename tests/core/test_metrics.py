from __future__ import annotations

from shipyard.core.metrics import Registry


def test_counter_histogram_exposition_and_bounded_labels() -> None:
    reg = Registry(max_label_values=3)
    c = reg.counter("x_total", "X.", ["model"])
    for i in range(10):
        c.inc(1, f"m{i}")
    h = reg.histogram("lat_seconds", "Latency.", ["route"], buckets=(0.1, 1.0))
    for v in (0.05, 0.5, 5.0):
        h.observe(v, "/a")
    text = reg.render()
    assert 'x_total{model="m0"} 1' in text and 'x_total{model="other"} 7' in text
    assert 'x_total{model="m5"}' not in text  # the 4th value onwards goes to "other"
    assert 'lat_seconds_bucket{route="/a",le="0.1"} 1' in text
    assert 'lat_seconds_bucket{route="/a",le="1"} 2' in text
    assert 'lat_seconds_bucket{route="/a",le="+Inf"} 3' in text
    assert 'lat_seconds_count{route="/a"} 3' in text and 'lat_seconds_sum{route="/a"} 5.55' in text
    assert "# TYPE lat_seconds histogram" in text and "# TYPE x_total counter" in text


def test_label_values_are_escaped() -> None:
    reg = Registry()
    reg.counter("y_total", "Y.", ["name"]).inc(2, 'a"b\\c\nd')
    assert 'y_total{name="a\\"b\\\\c\\nd"} 2' in reg.render()
