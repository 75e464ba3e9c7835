import pytest

from shared.http import Problem
from shared.ratelimit import RateLimiter, admit


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_a_burst_is_admitted_then_the_wait_is_until_the_next_token(clock):
    limiter = RateLimiter(per_second=2, burst=3, clock=clock)
    assert [limiter.take("k") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("k") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.take("k") == 0
    assert limiter.take("k") == pytest.approx(0.5)


def test_tokens_refill_up_to_the_burst_only(clock):
    limiter = RateLimiter(per_second=1, burst=2, clock=clock)
    limiter.take("k")
    clock.now += 3600
    assert [limiter.take("k") for _ in range(3)] == [0, 0, pytest.approx(1.0)]


def test_each_key_has_its_own_bucket(clock):
    limiter = RateLimiter(per_second=1, burst=1, clock=clock)
    assert limiter.take("a") == 0 and limiter.take("a") > 0
    assert limiter.take("b") == 0


def test_the_sustained_rate_is_the_configured_one(clock):
    limiter = RateLimiter(per_second=4, burst=4, clock=clock)
    admitted = 0
    for _ in range(80):  # one request every 1/8 s for 10 s
        admitted += limiter.take("k") == 0
        clock.now += 0.125
    assert admitted == 4 + 39  # the burst, then 4/s over the 79 intervals (39.5 tokens)


def test_memory_is_bounded_by_forgetting_the_least_recent_key(clock):
    limiter = RateLimiter(per_second=1, burst=1, clock=clock, max_keys=2)
    for key in ("a", "b", "c"):
        limiter.take(key)
    assert list(limiter.buckets) == ["b", "c"]


def test_zero_means_no_limit_and_nonsense_is_refused(clock):
    limiter = RateLimiter(per_second=0, burst=0, clock=clock)
    assert all(limiter.take("k") == 0 for _ in range(1000))
    with pytest.raises(ValueError):
        RateLimiter(per_second=-1, burst=1)


def test_refusal_is_a_429_problem_with_retry_after_in_whole_seconds(clock):
    limiter = RateLimiter(per_second=0.4, burst=1, clock=clock)
    admit(limiter, "k")
    with pytest.raises(Problem) as caught:
        admit(limiter, "k")
    problem = caught.value
    assert problem.status == 429 and problem.headers == {"Retry-After": "3"}
    response = problem.response()
    assert response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "3"
