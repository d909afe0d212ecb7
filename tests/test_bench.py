"""fastinit._bench, the measuring behind bench/compare.py and `fastinit bench`: the ceilings, the
alternating timing of each fill against the fastest ceiling, and the value checks."""
import fastinit._bench as b


def test_paired_seconds_alternates_the_two_calls():
    calls = []
    fill, ceiling = (lambda: calls.append("f")), (lambda: calls.append("c"))
    seconds, ceiling_s = b.paired_seconds(fill, ceiling, 3)
    assert calls == ["f", "c"] * 4  # a warm-up of each, then alternating
    assert seconds >= 0 and ceiling_s >= 0


def test_fill_rows_are_checked_on_their_own_values():
    """The ceiling's calls write 1.0 into the same array; each fill's values are checked after a
    call of its own, so a correct fill carries no note."""
    rows = b.measure(fills=["uniform", "normal", "truncated_normal [-2, 2]", "constant"], size=20000,
                     repeats=2, with_torch=False)
    ceilings = [r for r in rows if r.kind == "ceiling"]
    fills = [r for r in rows if r.kind == "fill"]
    assert [r.fill for r in ceilings] == list(b.CEILINGS)
    assert len(fills) == 4
    for r in fills:
        assert r.notes == [], (r.fill, r.notes)
        assert r.ceiling_s and r.ceiling_s > 0
        assert r.rates()["pct_ceiling"] > 0
