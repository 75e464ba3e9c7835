import eventlet

from services.incubators.locks import KeyedLocks


def test_holders_of_one_key_take_turns_and_other_keys_do_not_wait():
    locks, trace = KeyedLocks(), []

    def work(key, name):
        with locks.hold(key):
            trace.append(f"{name}+")
            eventlet.sleep(0.01)
            trace.append(f"{name}-")

    pool = eventlet.GreenPool()
    for key, name in (("a", "a1"), ("a", "a2"), ("b", "b1")):
        pool.spawn(work, key, name)
    pool.waitall()
    a_only = [step for step in trace if step.startswith("a")]
    assert a_only in (["a1+", "a1-", "a2+", "a2-"], ["a2+", "a2-", "a1+", "a1-"])
    assert trace.index("b1+") < trace.index("a1-")  # b did not wait for a
    assert locks._locks == {}  # nothing kept once released
