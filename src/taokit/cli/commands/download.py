"""`tao model download`: the NGC CLI's `registry model download-version`, with no CLI, login or key."""

from pathlib import Path

import typer

from taokit.cli.errors import report_errors


def register(model_group: typer.Typer) -> None:
    @model_group.command(
        "download", help="Download a model by name: an NGC target as the NGC CLI takes it (org/[team/]name[:version], "
                         "e.g. nvidia/tao/peoplenet:pruned_quantized_decrypted_v2.3.4), torchvision://WEIGHTS or "
                         "https://...#sha256=HEX. Public NGC models need no key. Without --dest the files go to the "
                         "cache (TAOKIT_HOME), where ngc:// sources find them.")
    @report_errors
    def download(
        target: str | None = typer.Argument(None, help="org/[team/]name[:version]; without a version, the latest."),
        dest: Path | None = typer.Option(None, "--dest", help="Write DEST/NAME_vVERSION/FILE, as the NGC CLI does."),
        file: list[str] | None = typer.Option(None, "--file", help="Only this file of the version (repeatable)."),
        list_: str | None = typer.Option(None, "--list", help="List a model's versions (org/team/name) or a "
                                                              "version's files (org/team/name:version)."),
        verbose: bool = typer.Option(False, "-v", "--verbose"),
    ) -> None:
        from taokit.actions import download as action
        from taokit.cli.console import print_result
        from taokit.cli.session import start_session
        from taokit.errors import UsageError

        start_session(verbose=verbose)
        if (target is None) == (list_ is None):
            raise UsageError("give a target to download, or --list MODEL (not both)")
        print_result(action.list_model(list_) if list_ is not None else
                     action.run(target or "", dest=dest, files=list(file or [])))
