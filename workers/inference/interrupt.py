"""Ending a step of batch items early: when a chat job's hold begins (holds.py) while the engine
decodes batch items alone, the step stops at its next graph node, so the chat's claim has the
cores and its prompt does not wait for the step to end (a step of four items takes 30-110 ms
here, one that evaluates an item's prompt up to several times that).

llama.cpp asks an abort callback after each node of the graph. The callback here is C's own
``strlen`` over a two-byte buffer: it reads the first byte (0 or 1) on the computing thread
without the interpreter's lock, where a Python callback would take that lock a thousand times a
step. ``llama_decode`` then returns 2 and removes what the step put in its sequences' KV cache
(one micro-batch a step: ``n_ubatch = n_batch``), so nothing is half done: the items'
sequences are as before the step, which is made again once the chat's prompt is in.
On a GPU the step ends in a few milliseconds anyway: llama.cpp asks the callback on the CPU.
"""

from __future__ import annotations

import ctypes
import threading

import llama_cpp
from llama_cpp._logger import llama_log_callback  # llama-cpp-python's log: stderr by level

from workers.inference.holds import Holds

ABORTED = 2  # llama_decode's return when the abort callback said so
# what llama.cpp logs of a step ended early (a warning per sequence, then an error): not a fault
_ENDED_LOG = (b"decode: removing memory module entries", b"llama_decode: failed to decode, ret = 2")
_decoding = threading.local()  # the StepInterrupt whose step this thread decodes

_libc = ctypes.CDLL(None)  # the process's own symbols, C's library among them
# size_t strlen(const char *) over [flag, NUL] is 0 or 1: the same bits as bool false and true
_READ_FLAG = ctypes.cast(_libc.strlen, llama_cpp.ggml_abort_callback)


@llama_cpp.llama_log_callback
def _log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    """llama-cpp-python's log, less what llama.cpp says of a step this module ended."""
    interrupt = getattr(_decoding, "interrupt", None)
    if interrupt is None or not interrupt.fired or not text.startswith(_ENDED_LOG):
        llama_log_callback(level, text, user_data)


class StepInterrupt:
    """The abort flag of one llama context: armed around a step of batch items alone, fired
    by a hold that begins meanwhile; both under the engine's lock."""

    def __init__(
        self, ctx: llama_cpp.llama_context_p, lock: threading.Condition, holds: Holds
    ) -> None:
        self._ctx = ctx
        self._lock = lock
        self._holds = holds
        self._flag = ctypes.create_string_buffer(2)
        self._armed = False
        self.ended = 0  # steps ended early
        holds.on_begin = self._fire
        llama_cpp.llama_log_set(_log, None)
        llama_cpp.llama_set_abort_callback(ctx, _READ_FLAG, ctypes.addressof(self._flag))

    def decode(self, batch: llama_cpp.llama_batch, interruptible: bool) -> int:
        """``llama_decode``; a step of batch items alone (``interruptible``) ends early when a
        hold begins, or is not begun when one began since it was planned (ABORTED)."""
        with self._lock:
            if interruptible and self._holds.lapse_s() is not None:
                return ABORTED
            self._armed = interruptible
        _decoding.interrupt = self
        try:
            result: int = llama_cpp.llama_decode(self._ctx, batch)
        finally:
            with self._lock:
                self._armed = False
                self._flag[0] = b"\0"
        self.ended += result == ABORTED
        return result

    @property
    def fired(self) -> bool:
        return self._flag[0] == b"\1"

    def _fire(self) -> None:
        if self._armed:
            self._flag[0] = b"\1"
