"""The workers' statistics board (reactor/supervisor.py): what one process leaves, another reads across a fork;
a copy caught mid-write is never taken; a restarted worker's numbers replace its predecessor's."""

from __future__ import annotations

import os

import pytest

from reactor.supervisor import StatisticsBoard


def test_each_worker_reads_what_every_worker_left_and_none_before() -> None:
    board = StatisticsBoard(3)
    assert board.read(2) is None
    board.publish(1, {"requests": 1})
    board.publish(2, {"requests": 20})
    board.publish(1, {"requests": 2})
    assert [board.read(number) for number in (1, 2, 3)] == [{"requests": 2}, {"requests": 20}, None]


# Python 3.12 warns about any fork in a process with threads (earlier tests' servers): the child here
# runs only the board's code, which takes no lock, then _exit.
pytestmark = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


def in_a_child(board: StatisticsBoard, number: int, documents: list[dict[str, object]]) -> int:
    """Fork a worker that publishes ``documents`` as worker ``number`` and exits; its pid, once it has."""
    pid = os.fork()
    if pid == 0:  # the worker: publish and leave at once, running none of pytest's code
        code = 1
        try:
            for document in documents:
                board.publish(number, document)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return pid


def test_what_a_forked_worker_leaves_its_parent_reads() -> None:
    board = StatisticsBoard(2)
    pid = in_a_child(board, 2, [{"requests": 5}])
    assert board.read(2) == {"requests": 5} and board.read(1) is None
    assert pid != os.getpid()


def test_a_restarted_worker_replaces_its_predecessor_at_its_first_write() -> None:
    board = StatisticsBoard(1)
    in_a_child(board, 1, [{"n": n} for n in range(5)])  # the worker that died
    in_a_child(board, 1, [{"n": "restarted"}])  # its successor knows nothing of its writes: the board does
    assert board.read(1) == {"n": "restarted"}


def test_a_copy_caught_mid_write_is_passed_over_for_the_whole_one() -> None:
    board = StatisticsBoard(1)
    board.publish(1, {"n": 1})
    board.publish(1, {"n": 2})  # into the second copy: the first still holds n=1
    memory = board._memory
    second = StatisticsBoard.COPY + 16  # the newer copy's document, past its header
    memory[second : second + 4] = b"XXXX"  # a write into it had begun when the read came
    assert board.read(1) == {"n": 1}
    board.publish(1, {"n": 3})  # the next write goes to the older copy, the torn one stays behind
    assert board.read(1) == {"n": 3}


def test_a_document_larger_than_a_copy_or_a_worker_off_the_board_is_refused() -> None:
    board = StatisticsBoard(2)
    with pytest.raises(ValueError, match="more than the board"):
        board.publish(1, {"x": "y" * StatisticsBoard.COPY})
    with pytest.raises(ValueError, match="no worker 3"):
        board.publish(3, {})
    with pytest.raises(ValueError, match="no worker 0"):
        board.read(0)
