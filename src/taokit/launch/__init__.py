"""Where a job runs: in this process, under torchrun (several GPUs or nodes), or inside Docker."""
