"""The kernel through the real Jupyter client (Debian's python3-jupyter-client), one scenario per run.

usage: python3 kernel_protocol.py <scenario> <library-folder> <work-folder>
The kernelspec must be findable through JUPYTER_PATH (the xunit test installs it with --prefix into a temp folder).
Every scenario starts its own kernel and shuts it down (killing it if it does not stop); exit 0 means every check passed.
"""
import os
import sys
import time
import uuid

from jupyter_client.manager import start_new_kernel

KERNEL = "metanotebooks-csharp"
TIMEOUT = 120  # seconds for one reply on a loaded machine; the xunit test bounds the whole run


def log(*args):
    print(*args, flush=True)


class Session:
    def __init__(self, work):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=TIMEOUT, cwd=work)

    def close(self):
        try:
            self.kc.stop_channels()
            self.km.shutdown_kernel(now=False)
        finally:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)

    def reply(self, msg_id, timeout=TIMEOUT):
        """The shell reply to msg_id (other replies, e.g. to the start-up kernel_info requests, are skipped)."""
        deadline = time.time() + timeout
        while True:
            msg = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.time()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def iopub(self, msg_id, timeout=TIMEOUT):
        """Every IOPub message caused by msg_id, up to and including its idle status."""
        deadline = time.time() + timeout
        out = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            out.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out

    def execute(self, code, **kw):
        msg_id = self.kc.execute(code, **kw)
        return self.reply(msg_id)["content"], self.iopub(msg_id)


def types(messages):
    return [m["msg_type"] for m in messages]


def text(messages, name="stdout"):
    return "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream" and m["content"]["name"] == name)


def references(lib):
    return f'#r "{lib}/MetaNotebooks.Torch.dll"\n#r "{lib}/MetaNotebooks.dll"\n'


def scenario_execute(s, lib, work):
    """kernel_info, execute with every kind of output, execution_count, silent, store_history, history, comm_info, is_complete, stdin."""
    msg_id = s.kc.kernel_info()
    info = s.reply(msg_id)["content"]
    assert info["protocol_version"] == "5.3", info
    assert info["language_info"]["name"] == "csharp" and info["language_info"]["file_extension"] == ".cs", info
    assert info["language_info"]["codemirror_mode"] and info["language_info"]["pygments_lexer"] == "csharp", info
    assert "libtorch" in info["banner"] and "MetaNotebooks library" in info["banner"], info["banner"]

    reply, msgs = s.execute("var x = 20;")
    assert reply["status"] == "ok", reply
    first = reply["execution_count"]
    assert first == 1, reply  # the compiler's warm-up after kernel_info runs cells of its own: they are not counted
    assert types(msgs)[0] == "status" and msgs[0]["content"]["execution_state"] == "busy", types(msgs)
    assert "execute_input" in types(msgs), types(msgs)

    reply, msgs = s.execute("x + 1")
    assert reply["execution_count"] == first + 1, reply
    result = [m for m in msgs if m["msg_type"] == "execute_result"]
    assert len(result) == 1 and result[0]["content"]["data"]["text/plain"] == "21", msgs
    assert result[0]["content"]["execution_count"] == first + 1

    # Later cells see the whole framework (only the first submission is given its references; Roslyn passes them on):
    # System.Text.Json is an assembly no earlier cell used.
    reply, msgs = s.execute("System.Text.Json.JsonSerializer.Serialize(new[] { x, 2 })")
    result = [m for m in msgs if m["msg_type"] == "execute_result"]
    assert reply["status"] == "ok" and result[0]["content"]["data"]["text/plain"] == "[20,2]", (reply, msgs)
    first += 1  # the counts asserted below are relative to the cells before this one

    reply, msgs = s.execute('Console.WriteLine("out"); Console.Error.WriteLine("err"); display(HTML("<b>bold</b>"));')
    assert text(msgs) == "out\n" and text(msgs, "stderr") == "err\n", msgs
    shown = [m for m in msgs if m["msg_type"] == "display_data"]
    assert shown and shown[0]["content"]["data"]["text/html"] == "<b>bold</b>", msgs

    # A figure: image/png + Plotly JSON + HTML, as the headless runner stores them.
    code = references(lib) + "using MetaNotebooks.Figures;\ndisplay(Display.Table([\"a\", \"b\"], [[1, 2.5]]));"
    reply, msgs = s.execute(code)
    assert reply["status"] == "ok", reply
    table = [m for m in msgs if m["msg_type"] == "display_data"][0]["content"]["data"]
    assert "<table" in table["text/html"] and "2.5" in table["text/plain"], table

    # silent: no execute_input, no result, no new execution count.
    reply, msgs = s.execute("x * 100", silent=True)
    assert reply["status"] == "ok" and "execute_input" not in types(msgs) and "execute_result" not in types(msgs), msgs
    reply, _ = s.execute("x", store_history=False)
    assert reply["execution_count"] == first + 3, reply  # not counted
    reply, _ = s.execute("x")
    assert reply["execution_count"] == first + 4, reply

    msg_id = s.kc.history(hist_access_type="tail", n=2)
    history = s.reply(msg_id)["content"]["history"]
    assert [h[2] for h in history] == [code, "x"], history

    msg_id = s.kc.comm_info()
    assert s.reply(msg_id)["content"]["comms"] == {}

    for code, status in [("for (var i = 0; i < 3; i++) {", "incomplete"), ("var y = 1;", "complete"), ("var = ;", "invalid")]:
        msg_id = s.kc.is_complete(code)
        got = s.reply(msg_id)["content"]["status"]
        assert got == status, (code, got)

    # stdin: Console.ReadLine asks the front end (input_request), which answers with input_reply.
    msg_id = s.kc.execute("var name = Console.ReadLine();\nname.ToUpper()", allow_stdin=True)
    request = s.kc.get_stdin_msg(timeout=TIMEOUT)
    assert request["msg_type"] == "input_request", request
    s.kc.input("ada")
    assert s.reply(msg_id)["content"]["status"] == "ok"
    result = [m for m in s.iopub(msg_id) if m["msg_type"] == "execute_result"]
    assert result[0]["content"]["data"]["text/plain"] == "ADA", result
    # Without allow_stdin (nbconvert): a clear error instead of a hang.
    reply, _ = s.execute("Console.ReadLine()", allow_stdin=False)
    assert reply["status"] == "error" and "allow_stdin" in reply["evalue"], reply


def scenario_errors(s, lib, work):
    """A cell that throws, a compile error, a libtorch error, stop_on_error aborting the queue, deep recursion."""
    reply, msgs = s.execute("var a = 1;\nvar b = 0;\nthrow new InvalidOperationException(\"boom\");")
    assert reply["status"] == "error" and reply["ename"] == "System.InvalidOperationException" and reply["evalue"] == "boom", reply
    error = [m for m in msgs if m["msg_type"] == "error"][0]["content"]
    trace = "\n".join(error["traceback"])
    assert "line 3" in trace and 'throw new InvalidOperationException("boom");' in trace, trace

    reply, _ = s.execute("int q = \"text\";")
    assert reply["status"] == "error" and reply["ename"] == "CompilationError" and "CS0029" in "\n".join(reply["traceback"]), reply

    reply, _ = s.execute(references(lib) + "using MetaNotebooks.Torch;\ntorch.zeros(2, 3).matmul(torch.zeros(4, 5))")
    assert reply["status"] == "error" and "Torch" in reply["ename"], reply
    reply, _ = s.execute("a + 41")
    assert reply["status"] == "ok", reply  # the kernel survived, the state is kept

    # stop_on_error: the requests queued behind a failing one are aborted, not run.
    failing = s.kc.execute("throw new Exception(\"first\");")
    queued = s.kc.execute("a = 99;")
    assert s.reply(failing)["content"]["status"] == "error"
    assert s.reply(queued)["content"]["status"] == "aborted"
    reply, msgs = s.execute("a")
    assert [m for m in msgs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"] == "1", msgs

    # stop_on_error=False: the next one runs.
    failing = s.kc.execute("throw new Exception(\"second\");", stop_on_error=False)
    queued = s.kc.execute("a = 7;")
    assert s.reply(failing)["content"]["status"] == "error"
    assert s.reply(queued)["content"]["status"] == "ok"

    # Many cells later, a throwing cell's traceback still points at its line.
    reply, msgs = s.execute("var late = 5;\n\nthrow new ArgumentException(\"late\");")
    trace = "\n".join([m for m in msgs if m["msg_type"] == "error"][0]["content"]["traceback"])
    assert reply["status"] == "error" and "line 3" in trace and 'throw new ArgumentException("late");' in trace, trace

    # Deep (not infinite) recursion works on the cells' large stack.
    reply, msgs = s.execute("int Depth(int n) => n == 0 ? 0 : 1 + Depth(n - 1);\nDepth(200_000)")
    assert reply["status"] == "ok", reply


def scenario_signature(s, lib, work):
    """A message signed with the wrong key is dropped (never executed) and logged; the kernel goes on."""
    marker = os.path.join(work, "bad-signature-ran.txt")
    good_key = s.kc.session.key
    s.kc.session.key = b"not-the-key"
    s.kc.session.auth = None
    import hmac, hashlib
    s.kc.session.auth = hmac.HMAC(b"not-the-key", digestmod=hashlib.sha256)
    bad = s.kc.execute(f'System.IO.File.WriteAllText(@"{marker}", "ran");')
    s.kc.session.key = good_key
    s.kc.session.auth = hmac.HMAC(good_key, digestmod=hashlib.sha256)
    reply, _ = s.execute("1 + 1")
    assert reply["status"] == "ok", reply
    time.sleep(1)
    assert not os.path.exists(marker), "the badly signed request ran"
    try:
        s.reply(bad, timeout=2)
        raise AssertionError("the badly signed request got a reply")
    except Exception as e:  # queue.Empty: no reply, as it should be
        if isinstance(e, AssertionError):
            raise


def scenario_interrupt(s, lib, work):
    """Interrupting a long training cell: the loop stops at its next step with its checkpoint, the cell ends 'interrupted', the next cell runs."""
    checkpoint = os.path.join(work, "spin.mntd")
    code = references(lib) + f"""using MetaNotebooks.Models;
using MetaNotebooks.Torch;
using MetaNotebooks.Training;
torch.set_num_threads(1);
var g = new Generator(1);
var model = new Mlp([1, 8, 1], g);
var optimizer = new torch.optim.SGD(model.parameters(), 1e-3);
var x = torch.linspace(-1, 1, 16).reshape(16, 1);
var loop = new TrainingLoop("spin", model, optimizer, 100_000_000, @"{checkpoint}") {{ CheckpointInterval = TimeSpan.FromHours(1) }};
Console.WriteLine("training");
var outcome = loop.Run(_ => torch.nn.functional.mse_loss(model.forward(x), x * 2));
Console.WriteLine($"stopped after {{outcome.Iterations}}");
"""
    msg_id = s.kc.execute(code)
    seen = []
    progress = []
    deadline = time.time() + TIMEOUT
    while "training" not in "".join(seen):
        msg = s.kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            seen.append(msg["content"]["text"])
    # Let it train and draw its progress bar (one display, updated in place).
    time.sleep(3)
    s.km.interrupt_kernel()
    reply = s.reply(msg_id)["content"]
    msgs = s.iopub(msg_id)
    assert reply["status"] == "error" and reply["ename"] == "Interrupted", reply
    out = "".join(seen) + text(msgs)
    assert "stopped after" in out, out
    assert os.path.exists(checkpoint), "no checkpoint written at the interrupt"
    updates = [m for m in msgs if m["msg_type"] == "update_display_data"]
    displays = [m for m in msgs if m["msg_type"] == "display_data"]
    assert updates and len(displays) == 1, types(msgs)
    assert all(u["content"]["transient"]["display_id"] == displays[0]["content"]["transient"]["display_id"] for u in updates)
    reply, msgs = s.execute("outcome.Completed")
    assert reply["status"] == "ok", reply
    assert [m for m in msgs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"] == "False"


def scenario_streaming(s, lib, work):
    """Console output reaches the front end while the cell runs, and DisplayedValue.Update redraws one display."""
    msg_id = s.kc.execute('Console.WriteLine("before");\nSystem.Threading.Thread.Sleep(4000);\nConsole.WriteLine("after");')
    deadline = time.time() + TIMEOUT
    while True:
        msg = s.kc.get_iopub_msg(timeout=max(0.1, deadline - time.time()))
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            assert msg["content"]["text"] == "before\n", msg
            break
    # "before" arrived while the cell sleeps: the reply comes about 4 s later, not with it.
    arrived = time.time()
    assert s.reply(msg_id)["content"]["status"] == "ok"
    assert time.time() - arrived > 2, "the first line came with the reply: output was not streamed"
    s.iopub(msg_id)

    reply, msgs = s.execute('var shown = display("first");\nshown.Update("second");')
    display = [m for m in msgs if m["msg_type"] == "display_data"][0]["content"]
    update = [m for m in msgs if m["msg_type"] == "update_display_data"][0]["content"]
    assert display["data"]["text/plain"] == "first" and update["data"]["text/plain"] == "second", msgs
    assert display["transient"]["display_id"] == update["transient"]["display_id"]


def scenario_restart(s, lib, work):
    """A restart gives a fresh session: the state is gone, the new kernel answers."""
    reply, _ = s.execute("var kept = 5;")
    assert reply["status"] == "ok"
    pid = s.km.provisioner.process.pid if hasattr(s.km, "provisioner") and s.km.provisioner else None
    s.km.restart_kernel(now=False)
    s.kc.wait_for_ready(timeout=TIMEOUT)
    if pid is not None:
        assert s.km.provisioner.process.pid != pid, "the kernel process was not restarted"
    reply, _ = s.execute("kept")
    assert reply["status"] == "error" and "CS0103" in "\n".join(reply["traceback"]), reply
    reply, msgs = s.execute("6 * 7")
    assert [m for m in msgs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"] == "42"


def scenario_completion(s, lib, work):
    """complete and inspect over the session's state: torch.ze offers zeros, an earlier cell's variable completes."""
    reply, _ = s.execute(references(lib) + "using MetaNotebooks.Torch;\nvar learningRate = 0.01;")
    assert reply["status"] == "ok", reply
    code = "torch.ze"
    msg_id = s.kc.complete(code, len(code))
    content = s.reply(msg_id)["content"]
    assert "zeros" in content["matches"] and content["cursor_start"] == len("torch.") and content["cursor_end"] == len(code), content
    code = "var lr2 = learn"
    msg_id = s.kc.complete(code, len(code))
    content = s.reply(msg_id)["content"]
    assert "learningRate" in content["matches"] and content["cursor_start"] == len("var lr2 = "), content
    code = "learningRate.ToStr"
    msg_id = s.kc.complete(code, len(code))
    assert "ToString" in s.reply(msg_id)["content"]["matches"]

    msg_id = s.kc.inspect("learningRate", 3)
    content = s.reply(msg_id)["content"]
    assert content["found"] and "double learningRate" in content["data"]["text/plain"], content
    msg_id = s.kc.inspect("torch.zeros(3)", 8)
    content = s.reply(msg_id)["content"]
    assert content["found"] and "zeros" in content["data"]["text/plain"], content
    msg_id = s.kc.inspect("nothingHere", 3)
    assert not s.reply(msg_id)["content"]["found"]


def scenario_terminate(s, lib, work):
    """SIGTERM (kill, systemd) ends the kernel process promptly instead of being taken for an interrupt only."""
    import signal
    reply, _ = s.execute("var alive = true;")
    assert reply["status"] == "ok", reply
    process = s.km.provisioner.process
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except Exception:
        raise AssertionError("the kernel was still running 30 s after SIGTERM")


def orphan(work):
    """A front end that dies without shutting its kernel down: the kernel notices and exits (no stray processes)."""
    import subprocess
    child = ("import os\nfrom jupyter_client.manager import start_new_kernel\n"
             f"km, kc = start_new_kernel(kernel_name={KERNEL!r}, startup_timeout={TIMEOUT})\n"
             "print(km.provisioner.process.pid, flush=True)\nos._exit(0)\n")
    out = subprocess.run([sys.executable, "-c", child], cwd=work, capture_output=True, text=True, timeout=TIMEOUT + 30)
    pid = int(out.stdout.strip().splitlines()[-1])
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    os.kill(pid, 9)
    raise AssertionError(f"the orphaned kernel {pid} was still running 30 s after its front end died (killed now)")


SCENARIOS = {name[len("scenario_"):]: f for name, f in globals().items() if name.startswith("scenario_")}


def main():
    name, lib, work = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    if name not in SCENARIOS and name != "orphan":
        sys.exit(f"unknown scenario {name}; known: {', '.join(SCENARIOS)}")
    started = time.time()
    if name == "orphan":
        orphan(work)
        log(f"{name}: passed in {time.time() - started:.1f} s")
        return
    s = Session(work)
    try:
        SCENARIOS[name](s, lib, work)
    finally:
        s.close()
    log(f"{name}: passed in {time.time() - started:.1f} s")


if __name__ == "__main__":
    main()
