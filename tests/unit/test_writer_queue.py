"""SQLite's writer queue (maillist.sqlite.WriterLock): one writer at a time across threads and
processes, a bounded wait, and nothing held after an error."""

import fcntl
import multiprocessing
import threading
import time

import pytest

from maillist.sqlite import WriterLock, WriterQueueTimeout, poll_pause, writer_lock


def hold_and_record(path, log_path, rounds, threads):
    """In one process: `threads` threads each take the lock `rounds` times and log when they held it."""
    lock = writer_lock(path)

    def work():
        for _ in range(rounds):
            with lock.held(10):
                started = time.monotonic()
                time.sleep(0.0005)
                ended = time.monotonic()
            with open(log_path, "a") as log:
                log.write(f"{started} {ended}\n")

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_threads_of_one_process_hold_it_one_at_a_time(tmp_path):
    lock, inside, most = WriterLock(str(tmp_path / "db.writelock")), [0], [0]
    guard = threading.Lock()

    def work():
        for _ in range(30):
            with lock.held(10):
                with guard:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.0002)
                with guard:
                    inside[0] -= 1

    workers = [threading.Thread(target=work) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert most[0] == 1 and inside[0] == 0


def test_processes_with_several_threads_never_overlap(tmp_path):
    path, log_path = str(tmp_path / "db.writelock"), tmp_path / "held.log"
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=hold_and_record, args=(path, str(log_path), 15, 3)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert all(process.exitcode == 0 for process in processes)
    spans = sorted(tuple(map(float, line.split())) for line in log_path.read_text().splitlines())
    assert len(spans) == 3 * 15 * 3
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:]))


def test_a_lock_held_elsewhere_is_waited_for_a_bounded_time(tmp_path):
    path = tmp_path / "db.writelock"
    with open(path, "a") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX)
        started = time.monotonic()
        with pytest.raises(WriterQueueTimeout, match="database is locked"):
            with WriterLock(str(path)).held(0.3):
                pytest.fail("the lock was held elsewhere")
        assert 0.3 <= time.monotonic() - started < 2
    with WriterLock(str(path)).held(0.3):  # let go elsewhere: taken at once
        pass


def test_the_next_writer_gets_it_as_soon_as_another_process_lets_go(tmp_path):
    path = tmp_path / "db.writelock"
    other_process = open(path, "a")
    fcntl.flock(other_process, fcntl.LOCK_EX)
    threading.Timer(0.2, other_process.close).start()
    started = time.monotonic()
    with WriterLock(str(path)).held(5):
        waited = time.monotonic() - started
    assert 0.15 < waited < 1


def test_an_error_inside_lets_the_lock_go(tmp_path):
    lock = WriterLock(str(tmp_path / "db.writelock"))
    with pytest.raises(RuntimeError):
        with lock.held(1):
            raise RuntimeError("the transaction failed")
    with open(tmp_path / "db.writelock", "a") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)  # would raise if still held
    with lock.held(1):
        pass


def test_a_thread_waiting_behind_another_thread_times_out_too(tmp_path):
    lock, taken, done = WriterLock(str(tmp_path / "db.writelock")), threading.Event(), threading.Event()

    def hold():
        with lock.held(5):
            taken.set()
            done.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(5)
    try:
        with pytest.raises(WriterQueueTimeout):
            with lock.held(0.2):
                pass
    finally:
        done.set()
        holder.join()


def test_waiters_look_often_at_first_and_less_often_after_a_long_wait():
    assert poll_pause(0) < poll_pause(0.5) < poll_pause(5)
    assert poll_pause(0) <= 0.0005 and poll_pause(30) <= 0.05
