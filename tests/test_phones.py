"""Duplicates by phone: numbers compare as ``phonenumbers`` reads them, from a documented region."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesrules.allocation import allocate
from salesrules.allocation.pool import normalised, phone_key, plain_keys
from salesrules.config import parse_config
from salesrules.errors import Problems
from salesrules.load import Dataset
from salesrules.model import ActivityTable, Lead, Rep
from salesrules.run import plan_run

AS_OF = dt.date(2026, 11, 25)
#: One mobile number as exports write it.
FORMS = ["138 0013 8000", "+86 138-0013-8000", "0086 13800138000", "(0086)13800138000",
         "(0086) 138-0013-8000", "8613800138000", "138-0013-8000"]


def run_alloc(phones: list[str], toml: str = ""):
    cfg = parse_config(toml)
    reps = [Rep("R1", "a", "East", "P1"), Rep("R2", "b", "East", "P1")]
    leads = [Lead(f"L{i}", dt.datetime(2026, 11, 24, 9, i), fields={"phone": p, "email": ""})
             for i, p in enumerate(phones)]
    data = Dataset(cfg.funnel_model, {r.id: r for r in reps}, leads,
                   ActivityTable(cfg.funnel_model.names))
    return allocate(cfg, plan_run(cfg, entry_points=False).routes, data, AS_OF, 0)


def test_every_written_form_of_one_number_reads_as_one_e164_number():
    assert {phone_key(form, "CN") for form in FORMS} == {"+8613800138000"}


def test_every_written_form_of_one_number_is_one_lead():
    res = run_alloc(FORMS)
    assert [a.lead_id for a in res.assignments] == ["L0"]
    assert res.duplicates == {f"L{i}": "L0" for i in range(1, len(FORMS))}
    reasons = {u.lead_id: u.reason for u in res.unassigned}
    assert reasons["L3"].startswith("duplicate of L0 (same phone)")


def test_a_number_phonenumbers_cannot_read_still_dedupes_by_its_digits():
    # "No. 7" is not a phone number to phonenumbers, nor is a 20-digit string possible
    assert phone_key("No. 7", "CN") == "7"
    long = "1234-5678-9012-3456-7890"
    assert phone_key(long, "CN") == "12345678901234567890"
    res = run_alloc(["No. 7", "7#", long, "12345678901234567890", "139 0000 0000"])
    assert res.duplicates == {"L1": "L0", "L3": "L2"}
    assert sorted(a.lead_id for a in res.assignments) == ["L0", "L2", "L4"]


def test_numbers_without_a_country_code_are_dialled_from_phone_region():
    us = ["(650) 253-0000", "+1 650 253 0000"]
    assert run_alloc(us, '[allocation]\nphone_region = "US"').duplicates == {"L1": "L0"}
    # from China, (650) 253-0000 is another number than the US one
    assert run_alloc(us).duplicates == {}


def test_emails_compare_without_case_or_spaces():
    got = normalised("email", pl.Series(["A@X.com ", "a@x.COM", "b@x.com"]))
    assert got.to_list() == ["a@x.com", "a@x.com", "b@x.com"]


def test_an_unknown_phone_region_is_refused_with_its_key_path():
    problems = Problems()
    assert parse_config('[allocation]\nphone_region = "XX"\n', problems=problems) is None
    (message,) = [str(p) for p in problems.all()]
    assert "allocation.phone_region" in message
    assert "must be a region code phonenumbers knows" in message and "'XX'" in message


def test_the_default_region_that_skips_phonenumbers_is_one_it_knows():
    """``CN`` is accepted without importing phonenumbers; it must be one phonenumbers knows."""
    import phonenumbers

    from salesrules.config import AllocationConfig

    assert "CN" in phonenumbers.SUPPORTED_REGIONS
    assert AllocationConfig().phone_region == "CN"
    assert AllocationConfig(phone_region="HK").phone_region == "HK"


@settings(deadline=None, max_examples=60)
@given(st.lists(st.one_of(st.sampled_from(FORMS + ["", "x", "139", "+1 650 253 0000"]),
                          st.text("0123456789 -+()", max_size=16)), max_size=20),
       st.sampled_from(["phone", "手机", "Mobile"]))
def test_the_column_is_each_value_read_on_its_own(values, field):
    """The column's keys group the values exactly as reading every value on its own does
    (only numbers that share their last digits are read by phonenumbers)."""
    got = normalised(field, pl.Series(values, dtype=pl.String)).to_list()
    each = [phone_key(v.strip(), "CN") for v in values]
    for i in range(len(values)):
        for j in range(len(values)):
            assert (bool(got[i]) and got[i] == got[j]) == (bool(each[i]) and each[i] == each[j])


#: A Chinese mobile number as its 11 digits, and strings a digit or a sign away from one.
MOBILES = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
NEAR = st.one_of(
    st.from_regex(r"1[0-9]{9,11}", fullmatch=True),
    st.from_regex(r"179[0-9]{2}0[0-9]{5}", fullmatch=True),  # 179xx00: a call abroad
    st.from_regex(r"(\+86|0086|86|0)1[3-9][0-9]{9}", fullmatch=True),
    st.builds(lambda m, sep: m[:3] + sep + m[3:], MOBILES, st.sampled_from([" ", "-", "x", "#"])),
    st.text("0123456789", min_size=11, max_size=11),
    st.text("0123456789０１٣ +-", max_size=14))


@pytest.mark.slow
@settings(deadline=None, max_examples=120)
@given(st.lists(st.one_of(MOBILES, NEAR), min_size=1, max_size=10),
       st.sampled_from(["CN", "CN", "US", "HK", "GB"]))
def test_the_plain_keys_are_what_phonenumbers_reads(values, region):
    """A value keyed without phonenumbers gets the key phonenumbers gives it; a Chinese
    mobile written as its digits always is, dialled from CN, unless it starts like a call
    abroad (179xx00)."""
    got = plain_keys(pl.Series(values, dtype=pl.String), region).to_list()
    for value, key in zip(values, got):
        assert key is None or key == phone_key(value, region)
        if region == "CN" and value[:1] == "1" and len(value) == 11 and value[1] in "3456789" \
                and value.isascii() and value.isdigit() and not (
                    value.startswith("179") and value[5:7] == "00"):
            assert key == "+86" + value
        elif region != "CN":
            assert key is None


@pytest.mark.slow
@settings(deadline=None, max_examples=100)
@given(st.lists(st.sampled_from(["13800138000", "13900138000", "12800138000"]), min_size=1,
                max_size=4).flatmap(lambda ms: st.lists(st.builds(
                    lambda m, form: form.format(m), st.sampled_from(ms),
                    st.sampled_from(["{}", "+86 {}", "0086-{}", " {} ", "{}0", "86{}"])),
                    max_size=12)))
def test_plain_and_parsed_numbers_group_as_each_read_on_its_own(values):
    """Mobiles keyed without phonenumbers and other forms of them that are parsed group
    together exactly as reading every value on its own does."""
    got = normalised("phone", pl.Series(values, dtype=pl.String)).to_list()
    each = [phone_key(v.strip(), "CN") for v in values]
    for i in range(len(values)):
        for j in range(len(values)):
            assert (got[i] == got[j]) == (each[i] == each[j])


def test_every_mobile_prefix_is_keyed_plainly_as_phonenumbers_reads_it():
    """Every 4-digit mobile prefix, and every 179xx00 (a call abroad), against phone_key."""
    values = ([f"{p}{s}" for p in range(1300, 2000) for s in ("0000000", "9876543")]
              + [f"179{d:02d}00{s}" for d in range(100) for s in ("0000", "5154")])
    got = plain_keys(pl.Series(values, dtype=pl.String), "CN").to_list()
    assert [k for k, v in zip(got, values) if k is not None and k != phone_key(v, "CN")] == []
    assert sum(k is not None for k in got) == 2 * 700 - 10  # 179x0 + 00...: a call abroad
