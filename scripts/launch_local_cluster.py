"""Starts N TensorFlow workers on loopback, each with its TF_CONFIG, and waits for them.

    python scripts/launch_local_cluster.py --num_workers=2 -- \
        -m zoo_apps.image_classify --model=cnn --strategy=multi_worker --model_dir=runs/mw

Worker 0 is the chief: its output goes to this terminal and its exit status is
returned. The other workers log to worker_<i>.log in --worker_log_dir. If any worker
fails, the others are stopped (a collective would otherwise wait forever).
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

from absl import app, flags

flags.DEFINE_integer("num_workers", 2, "Worker processes to start.", lower_bound=1)
flags.DEFINE_string("worker_log_dir", None, "Where non-chief workers log; default a temp folder.")
FLAGS = flags.FLAGS


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def tf_config(addresses, index):
    return json.dumps({"cluster": {"worker": addresses}, "task": {"type": "worker", "index": index}})


def main(argv):
    command = argv[1:]
    if not command:
        raise app.UsageError("Give the worker's python arguments after --, e.g. -- -m zoo_apps.image_classify ...")
    log_dir = FLAGS.worker_log_dir or tempfile.mkdtemp(prefix="zoo-cluster-")
    os.makedirs(log_dir, exist_ok=True)
    addresses = [f"127.0.0.1:{port}" for port in free_ports(FLAGS.num_workers)]
    workers = []
    for index in range(FLAGS.num_workers):
        env = dict(os.environ, TF_CONFIG=tf_config(addresses, index))
        output = None if index == 0 else open(os.path.join(log_dir, f"worker_{index}.log"), "w")
        workers.append(subprocess.Popen([sys.executable, *command], env=env, stdout=output, stderr=output))
    if FLAGS.num_workers > 1:
        print(f"workers {addresses}; non-chief logs in {log_dir}", file=sys.stderr)
    while any(w.poll() is None for w in workers):
        if any(w.returncode not in (None, 0) for w in workers):
            for w in workers:
                if w.poll() is None:
                    w.kill()
            break
        time.sleep(0.2)
    statuses = [w.wait() for w in workers]
    failed = [i for i, s in enumerate(statuses) if s]
    if failed:
        print(f"workers {failed} failed with statuses {[statuses[i] for i in failed]}", file=sys.stderr)
    return statuses[0] or (1 if failed else 0)


if __name__ == "__main__":
    app.run(main)
