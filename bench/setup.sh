#!/usr/bin/env bash
# Installs what bench/run.py needs: matplotlib and psutil into the project venv,
# and FlagEmbedding into bench/.venv-flag, a venv that sees the project venv's
# packages (so both systems run the same torch and transformers) but keeps
# FlagEmbedding and peft out of the server's environment. Safe to re-run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${RERANK_VENV:-$root/.venv}"
flag_venv="$root/bench/.venv-flag"

"$venv/bin/python" -m pip install --quiet -r "$root/bench/requirements.txt"

base_python="$("$venv/bin/python" -c 'import sys; print(sys._base_executable)')"
if [[ ! -x "$flag_venv/bin/python" ]]; then
  "$base_python" -m venv "$flag_venv"
fi
project_site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
flag_site="$("$flag_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
# addsitedir (not a bare path) so the project venv's own .pth files, such as
# its editable installs, are processed too; it appends, so the flag venv's
# own packages win.
echo "import site; site.addsitedir('$project_site')" > "$flag_site/zz_project_venv.pth"
constraints="$flag_venv/project-constraints.txt"
# Only what the measurement runs on is pinned to the project's versions.
"$venv/bin/python" -m pip freeze --exclude-editable \
  | grep -iE '^(torch|transformers|tokenizers|huggingface[-_]hub|safetensors|numpy)==' > "$constraints"
"$flag_venv/bin/python" -m pip install --quiet -c "$constraints" -r "$root/bench/requirements-flag.txt"
"$flag_venv/bin/python" -m pip install --quiet --no-deps "FlagEmbedding==1.4.2"
"$flag_venv/bin/python" -c "import FlagEmbedding, transformers, torch; print('FlagEmbedding ready: transformers', transformers.__version__, 'torch', torch.__version__)"
