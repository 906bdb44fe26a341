# taokit developer entry points. The README's set-up is `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.taokit-installed

.PHONY: install test test-fast demo demo-lanenet lint bench bench-real clean docker-build docker-image-local gpu-wheels

install: $(STAMP)

# torch and torchvision go first, exactly as pinned, so pip takes them from the local wheel cache;
# everything else is pinned in requirements.lock. A second run is a no-op (the stamp is newer).
$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(BIN)/python -m pip install --quiet -r requirements.lock "setuptools>=68"
	$(BIN)/python -m pip install --quiet --no-build-isolation -c requirements.lock -e ".[dev]"
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh

demo-lanenet: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo_lanenet.sh

# The NGC-based GPU image and a CPU image, where a registry is reachable (see docker/ and docs/runtimes.md).
docker-build:
	docker build -f docker/Dockerfile -t taokit:gpu .
	docker build -f docker/Dockerfile.cpu -t taokit:cpu .

# A runnable image built offline from this machine's own files (no registry): taokit:local.
docker-image-local: install
	bash docker/build_local_image.sh taokit:local

# Wheels of taokit's small dependencies for a GPU machine without network (torch comes with the machine).
gpu-wheels:
	$(BIN)/python -m pip download --quiet --dest gpu_wheels -c requirements.lock typer rich pydantic pyyaml \
	    onnx onnxruntime torch-pruning pillow opencv-python-headless scipy matplotlib tensorboard docker

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy  # the typed seams: [tool.mypy] files in pyproject.toml

bench: install
	$(BIN)/python benchmarks/cli_startup.py

# Real data side by side with YOLO11n: EPOCHS=40 or 100. The peer, keeping taokit's pinned torch and OpenCV:
#   .venv/bin/pip install ultralytics==8.4.190 --no-deps polars psutil ultralytics-thop
EPOCHS ?= 40
bench-real: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python benchmarks/detectnet_real_data.py --epochs $(EPOCHS)

clean:
	rm -rf $(VENV) demo_out demo_out_lanenet .pytest_cache
