"""`tao <task> train`: train (or retrain from a pruned model) from an experiment spec."""

import typer

from taokit.cli import options as o
from taokit.cli.console import print_result
from taokit.cli.errors import report_errors
from taokit.cli.session import start_session


def register(app: typer.Typer, task: str) -> None:
    @app.command("train", help="Train a model from an experiment spec (resumes automatically).")
    @report_errors
    def train(
        spec: o.RequiredSpec,
        results_dir: o.ResultsDir = None,
        model_name: o.ModelName = "model",
        key: o.Key = None,
        enable_determinism: bool = typer.Option(
            False, "--enable_determinism", "--enable-determinism", help="Bit-identical runs on CPU."),
        strict: o.Strict = False,
        gpus: o.Gpus = 1,
        gpu_index: o.GpuIndex = None,
        use_amp: o.UseAmp = False,
        log_file: o.LogFile = None,
        num_nodes: int = typer.Option(1, "--num_nodes", "--num-nodes", min=1, help="Nodes for multi-node DDP."),
        node_rank: int = typer.Option(0, "--node_rank", "--node-rank", min=0, help="This node's rank."),
        master_addr: str = typer.Option("127.0.0.1", "--master_addr", "--master-addr", help="Rendezvous host."),
        master_port: int = typer.Option(29500, "--master_port", "--master-port", help="Rendezvous port."),
        verbose: o.Verbose = False,
        overrides: o.Overrides = None,
    ) -> None:
        from taokit.actions import train as action

        session = start_session(results_dir=results_dir, overrides=overrides, key=key, gpus=gpus,
                                gpu_index=gpu_index, use_amp=use_amp, verbose=verbose, log_file=log_file)
        result = action.run(task, spec, session, model_name=model_name, enable_determinism=enable_determinism,
                            strict=strict, nodes=action.NodeOptions(num_nodes, node_rank, master_addr, master_port))
        print_result(result)
