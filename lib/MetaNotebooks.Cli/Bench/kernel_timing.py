"""Times a Jupyter kernel the way a front end meets it, through Debian's jupyter_client (used by `mn bench kernel`).

usage: kernel_timing.py <kernel-name> startup <launches>   prints startup_s=<seconds> per launch, then the mean
       kernel_timing.py <kernel-name> execute <requests>   prints roundtrip_s=<seconds> per request, then the mean
startup: from launching the kernel process to its first kernel_info_reply (one request, sent at launch).
execute: one kernel, warmed up with 20 requests; then each `1 + 1` execute_request until its execute_reply.
The same script and code measure our kernel and ipykernel.
"""
import sys
import time

from jupyter_client.manager import KernelManager

name, mode, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
TIMEOUT = 120


def reply_to(km, kc, msg_id):
    """The shell reply to msg_id; fails at once if the kernel process died instead of waiting out the timeout."""
    deadline = time.perf_counter() + TIMEOUT
    while time.perf_counter() < deadline:
        try:
            msg = kc.get_shell_msg(timeout=0.05)
        except Exception:  # queue.Empty
            if not km.is_alive():
                sys.exit(f"the kernel {name} died before replying")
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg
    sys.exit(f"the kernel {name} did not reply in {TIMEOUT} s")


def started():
    km = KernelManager(kernel_name=name)
    start = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    return km, kc, start


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=False)


values = []
if mode == "startup":
    for _ in range(count):
        km, kc, start = started()
        try:
            reply_to(km, kc, kc.kernel_info())
            values.append(time.perf_counter() - start)
        finally:
            stop(km, kc)
        print(f"startup_s={values[-1]:.6f}", flush=True)
elif mode == "execute":
    km, kc, _ = started()
    try:
        reply_to(km, kc, kc.kernel_info())
        for _ in range(20):
            reply_to(km, kc, kc.execute("1 + 1"))
        for _ in range(count):
            t = time.perf_counter()
            reply_to(km, kc, kc.execute("1 + 1"))
            values.append(time.perf_counter() - t)
            print(f"roundtrip_s={values[-1]:.6f}", flush=True)
    finally:
        stop(km, kc)
else:
    sys.exit(f"unknown mode {mode}: startup or execute")
key = "startup_s" if mode == "startup" else "roundtrip_s"
print(f"mean_{key}={sum(values) / len(values):.6f}")
