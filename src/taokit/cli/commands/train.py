"""`tao <task> train`: train (or retrain from a pruned model) from an experiment spec."""

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.session import session_command
from taokit.requests import Session


def register(app: typer.Typer, task: str) -> None:
    @app.command("train", help="Train a model from an experiment spec (resumes automatically).")
    @session_command()
    def train(
        session: Session,
        spec: o.RequiredSpec,
        model_name: o.ModelName = "model",
        enable_determinism: bool = typer.Option(
            False, "--enable_determinism", "--enable-determinism", help="Bit-identical runs on CPU."),
        strict: o.Strict = False,
        num_nodes: int = typer.Option(1, "--num_nodes", "--num-nodes", min=1, help="Nodes for multi-node DDP."),
        node_rank: int = typer.Option(0, "--node_rank", "--node-rank", min=0, help="This node's rank."),
        master_addr: str = typer.Option("127.0.0.1", "--master_addr", "--master-addr", help="Rendezvous host."),
        master_port: int = typer.Option(29500, "--master_port", "--master-port", help="Rendezvous port."),
        rdzv_endpoint: str = typer.Option("", "--rdzv_endpoint", "--rdzv-endpoint",
                                          help="host[:port] of an elastic (c10d) rendezvous; replaces --node_rank "
                                               "and --master_addr."),
        rdzv_id: str = typer.Option("taokit", "--rdzv_id", "--rdzv-id", help="Job id shared by every node."),
        max_restarts: int = typer.Option(0, "--max_restarts", "--max-restarts", min=0,
                                         help="Restart the workers this often after a failure (they resume)."),
    ) -> None:
        from taokit.actions import train as action

        print_result(action.run(task, spec, session, model_name=model_name, enable_determinism=enable_determinism,
                                strict=strict, nodes=action.NodeOptions(num_nodes, node_rank, master_addr,
                                                                        master_port, rdzv_endpoint, rdzv_id,
                                                                        max_restarts)))
