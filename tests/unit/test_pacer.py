"""The list pipe's pace: copies spaced evenly just under SES's maximum send rate."""

from maillist.lists.delivery import Pacer


class Clock:
    def __init__(self):
        self.now, self.slept = 100.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_sends_are_spaced_at_ninety_percent_of_the_rate():
    clock = Clock()
    pacer = Pacer(10, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        pacer.wait()
    interval = round(1 / 9, 6)
    assert clock.slept == [interval] * 4
    assert abs((clock.now - 100.0) - 4 / 9) < 1e-9, "five sends take four gaps of 1/9 s: 9 a second"


def test_time_spent_sending_counts_towards_the_gap():
    clock = Clock()
    pacer = Pacer(2, clock=clock, sleep=clock.sleep)
    pacer.wait()
    clock.now += 0.5  # the SMTP transaction itself took half a second
    pacer.wait()
    assert clock.slept == [round(1 / 1.8 - 0.5, 6)]


def test_no_rate_means_no_pace():
    clock = Clock()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        pacer.wait()
    assert clock.slept == []
