"""Property-based: parsers survive truncated, mutated and interleaved lines of the fixture
corpus. Parsing never raises (no parse_error rejection), and every line is accounted for:
intact lines of the file's own source are still parsed."""

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claude_view_pipeline.parsers import parse_file
from claude_view_pipeline.parsers.sniff import sniff_line
from claude_view_pipeline.sources import Source

from helpers import FIXTURES


def fixture_lines(source: str) -> list[bytes]:
    lines = []
    for p in sorted((FIXTURES / source).rglob("*.jsonl")):
        lines += [line for line in p.read_bytes().splitlines() if line.strip()]
    return lines


# every source that writes JSON lines (OpenCode keeps a database)
LINES = {s: fixture_lines(s.value) for s in Source if fixture_lines(s.value)}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**12) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


@st.composite
def damaged_line(draw, source: Source):
    raw = draw(st.sampled_from(LINES[source]))
    how = draw(st.sampled_from(["intact", "truncate", "mutate", "garbage", "foreign"]))
    if how == "truncate":
        return draw(st.integers(0, max(0, len(raw) - 1)).map(lambda n: raw[:n])), False
    if how == "mutate":  # a field replaced by a value of any JSON type
        obj = json.loads(raw)
        targets = [obj] + [v for v in obj.values() if isinstance(v, dict)]
        target = draw(st.sampled_from(targets))
        if target:
            key = draw(st.sampled_from(sorted(target)))
            target[key] = draw(JSON_VALUES)
        return json.dumps(obj).encode(), False
    if how == "garbage":
        return draw(st.binary(max_size=40)).replace(b"\n", b" "), False
    if how == "foreign":  # a line of another source interleaved
        other = draw(st.sampled_from([s for s in LINES if s is not source]))
        return draw(st.sampled_from(LINES[other])), False
    return raw, True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), source=st.sampled_from(sorted(LINES)))
def test_parsers_never_raise_and_account_for_every_line(tmp_path, data, source):
    first = data.draw(st.sampled_from(LINES[source]))  # the file starts as its source's log
    body = data.draw(st.lists(damaged_line(source), max_size=25))
    lines = [(first, True)] + body
    path = Path(tmp_path) / f"case-{source.value}.jsonl"
    path.write_bytes(b"\n".join(line for line, _ in lines) + b"\n")

    result = parse_file(source, str(path))
    assert result.rejection != "parse_error", result.detail  # no exception inside the parser
    non_blank = sum(1 for line, _ in lines if line.strip())
    accounted = result.lines_ok + result.lines_malformed + result.lines_incomplete_tail + result.lines_duplicate + result.lines_skipped
    if result.rejection is None:
        assert accounted == non_blank
        intact_own = sum(1 for line, intact in lines if intact and sniff_line(json.loads(line)) is source)
        assert result.lines_ok + result.lines_duplicate >= intact_own
        assert len(result.sessions) == 1
    else:
        assert result.rejection in ("source_mismatch", "not_a_session_log", "empty")


@settings(max_examples=300, deadline=None)
@given(line=st.dictionaries(st.sampled_from(["type", "payload", "timestamp", "role", "id", "sessionId", "record_type", "kind", "v", "data"]) | st.text(max_size=8), JSON_VALUES, max_size=6))
def test_every_sources_sniff_takes_any_json_object(line):
    """A line's fields may hold any JSON type (a list where a string was): asking each source
    whether a line is its own answers yes or no, never raises."""
    assert sniff_line(line) is None or isinstance(sniff_line(line), Source)
