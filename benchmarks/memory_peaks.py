"""Where a long run's memory peaks: resident memory sampled, and the Python stack at each peak.

``python benchmarks/memory_peaks.py OUT -- COMMAND...``

Runs ``COMMAND`` (for example ``/usr/bin/time -v python -m obskit report --config … --out
…``; under ``/usr/bin/time`` its child is the one sampled) and writes:

- ``OUT.rss``: ``seconds resident_MiB`` every 0.25 s (``VmRSS`` from ``/proc``);
- ``OUT.dumps``: ``py-spy dump`` of the process at each new peak 64 MiB above the last one
  dumped (from 700 MiB), and every 3 s while it is above ``--above`` MiB, so that a stage
  that holds memory for minutes is named too (needs ``py-spy``, in the ``bench`` extra;
  without it only the samples are written);
- ``OUT.stdout``: the command's output.

The peak it prints is sampled; ``/usr/bin/time -v``'s "Maximum resident set size" is the
exact figure. This is how the 10M and 100M runs of ``README.md`` (Memory) were followed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path


def _child(pid: int) -> int:
    """The first child of ``pid`` (the program ``/usr/bin/time`` runs), or ``pid``."""
    for _ in range(100):
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            kids = []
        if kids:
            return int(kids[0])
        time.sleep(0.1)
    return pid


def _rss_mib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024
    return None


def watch(out: str, command: list[str], above: int) -> int:
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    with open(out + ".stdout", "w") as stdout, open(out + ".rss", "w") as samples, \
            open(out + ".dumps", "w") as dumps:
        proc = subprocess.Popen(command, stdout=stdout, stderr=subprocess.STDOUT)
        pid = _child(proc.pid) if Path(command[0]).name == "time" else proc.pid
        start, peak, dumped, last = time.time(), 0, 0, 0.0
        while proc.poll() is None:
            rss = _rss_mib(pid)
            if rss is None:
                break
            now = time.time()
            samples.write(f"{now - start:.1f} {rss}\n")
            samples.flush()
            hot = rss > above and now - last > 3
            if py_spy and (rss >= max(dumped + 64, 700) and rss > peak or hot):
                stack = subprocess.run([py_spy, "dump", "--pid", str(pid)],
                                       capture_output=True, text=True).stdout
                dumps.write(f"=== t={now - start:.1f} rss={rss} MiB\n{stack}\n")
                dumps.flush()
                dumped, last = max(dumped, rss), now
            peak = max(peak, rss)
            time.sleep(0.25)
        code = proc.wait()
    print(f"exit {code}, sampled peak {peak} MiB, wall {time.time() - start:.1f} s")
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        raise SystemExit("usage: memory_peaks.py OUT [--above MiB] -- COMMAND...")
    cut = argv.index("--")
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("out", help="prefix of the files written")
    p.add_argument("--above", type=int, default=1800,
                   help="dump the stack every 3 s while above this many MiB")
    args = p.parse_args(argv[:cut])
    if not argv[cut + 1:]:
        p.error("no command given after --")
    return watch(args.out, argv[cut + 1:], args.above)


if __name__ == "__main__":
    raise SystemExit(main())
