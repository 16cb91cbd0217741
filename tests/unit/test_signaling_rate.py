from praatbox.signaling.rate import Budget, SenderRates, SendRate, TokenBucket

BUDGET = Budget(messages_per_second=10, burst_messages=20, bytes_per_second=1000,
                burst_bytes=5000, max_held_seconds=2.0)


def test_a_burst_within_capacity_is_not_held():
    rate = SendRate(BUDGET, now=0.0)
    assert [rate.hold(100, 0.0) for _ in range(20)] == [0.0] * 20
    assert rate.held_frames == 0


def test_overdrawing_says_how_long_to_wait_and_the_debt_is_paid_by_time():
    bucket = TokenBucket(rate=1000, capacity=5000, now=0.0)
    assert bucket.take(5000, 0.0) == 0.0
    assert bucket.take(500, 0.0) == 0.5
    assert bucket.take(0, 0.5) == 0.0  # waited it out
    assert bucket.full_in(0.5) == 5.0


def test_a_sender_held_back_too_long_is_exhausted_and_refused_until_its_budget_is_whole():
    rate = SendRate(BUDGET, now=0.0)
    rate.hold(5000, 0.0)
    # A sender that waits out each hold, as the socket makes it: held 1 s, then 1 s more.
    assert [rate.hold(1000, 0.0), rate.hold(1000, 1.0)] == [1.0, 1.0]
    assert not rate.exhausted()  # 2 s held in all: the limit, not over it
    assert rate.hold(1000, 2.0) == 1.0 and rate.exhausted()
    assert rate.refused_for(2.0) == 6.0  # 6,000 bytes short of a full bucket
    assert rate.refused_for(8.0) == 0.0


def test_senders_keep_their_budget_across_reconnects_and_the_oldest_are_forgotten():
    senders = SenderRates(max_senders=2)
    first = senders.of("a", BUDGET, 0.0)
    assert senders.of("a", BUDGET, 1.0) is first
    senders.of("b", BUDGET, 1.0)
    senders.of("c", BUDGET, 1.0)
    assert senders.of("a", BUDGET, 1.0) is not first
    assert senders.refused_for("unknown", 1.0) == 0.0


def test_a_visitor_gone_is_forgotten_once_at_rest_and_reconnecting_buys_no_budget():
    senders = SenderRates()
    spent = senders.of("a", BUDGET, 0.0)
    assert spent.hold(5000, 0.0) == 0.0  # the whole byte burst
    senders.closed("a", 0.0)
    # Back before the budget refilled: the same, still spent budget.
    assert senders.of("a", BUDGET, 1.0) is spent
    assert spent.hold(2000, 1.0) > 0.0
    senders.closed("a", 1.0)
    assert len(senders) == 1
    # Once whole again a fresh one would be the same: any later socket tidies it away.
    senders.of("b", BUDGET, 60.0)
    assert len(senders) == 1 and senders.of("a", BUDGET, 60.0) is not spent


def test_a_visitor_with_a_socket_open_or_closed_for_flooding_is_remembered():
    senders = SenderRates()
    two_tabs = senders.of("tabs", BUDGET, 0.0)
    senders.of("tabs", BUDGET, 0.0)
    senders.closed("tabs", 0.0)
    flooder = senders.of("flooder", BUDGET, 0.0)
    while not flooder.exhausted():
        flooder.hold(5000, 0.0)
    senders.closed("flooder", 0.0)
    senders.of("later", BUDGET, 3600.0)
    assert senders.of("tabs", BUDGET, 3600.0) is two_tabs
    # Its budget is whole by now, but its next hold closes it at once, as before it left.
    assert senders.of("flooder", BUDGET, 3600.0) is flooder and flooder.exhausted()
