"""Re-run the same CLI command under torchrun for `--gpus N` and multi-node training (DDP)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass

from taokit.errors import UsageError

log = logging.getLogger("taokit.launch")


@dataclass(frozen=True)
class NodeOptions:
    """Where the processes of one job meet. Static: every node names its rank and the master's address.
    Elastic: every node names the same rendezvous endpoint (c10d) and ranks are assigned on arrival;
    `max_restarts` restarts the whole worker group after a failure (training resumes from its checkpoint)."""

    num_nodes: int = 1
    node_rank: int = 0
    master_addr: str = "127.0.0.1"
    master_port: int = 29500
    rdzv_endpoint: str = ""  # host[:port]: elastic rendezvous instead of --node_rank/--master_addr
    rdzv_id: str = "taokit"
    max_restarts: int = 0

    @property
    def distributed(self) -> bool:
        """Whether the job goes through torchrun even with one process on one node."""
        return self.num_nodes > 1 or self.max_restarts > 0 or bool(self.rdzv_endpoint)


def inside_torchrun() -> bool:
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def check_gpus(gpus: int) -> None:
    import torch

    available = torch.cuda.device_count()
    if available and gpus > available:
        raise UsageError(f"--gpus {gpus}: this machine has {available} GPU(s)")
    if not available and gpus > 1:
        log.warning("--gpus %d on a machine without CUDA GPUs: running %d CPU processes (gloo)", gpus, gpus)


def torchrun_command(cli_args: list[str], nproc: int, nodes: NodeOptions) -> list[str]:
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}",
               f"--nnodes={nodes.num_nodes}", f"--max_restarts={nodes.max_restarts}"]
    if nodes.rdzv_endpoint:
        command += ["--rdzv_backend=c10d", f"--rdzv_endpoint={nodes.rdzv_endpoint}", f"--rdzv_id={nodes.rdzv_id}"]
    else:
        command += [f"--node_rank={nodes.node_rank}", f"--master_addr={nodes.master_addr}",
                    f"--master_port={nodes.master_port}"]
    return [*command, "-m", "taokit", *cli_args]


def run_under_torchrun(cli_args: list[str], nproc: int, nodes: NodeOptions, gpu_index: list[int]) -> int:
    """Start `nproc` copies of `tao <cli_args>` on this node; returns torchrun's exit code."""
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    if nodes.rdzv_endpoint and nodes.max_restarts:
        # torch shares the rendezvous TCP store across restarts, and the restarted gloo/NCCL group then
        # dials the previous attempt's port (pytorch#135712); a fresh store per attempt avoids it
        env.setdefault("TORCH_DISABLE_SHARE_RDZV_TCP_STORE", "1")
    if gpu_index:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, gpu_index))
    command = torchrun_command(cli_args, nproc, nodes)
    log.info("launching %d process(es) per node on %d node(s): %s", nproc, nodes.num_nodes, " ".join(command))
    # The children's output is streamed through this process so that --log_file records it too.
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
    return proc.returncode
