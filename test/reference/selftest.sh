#!/bin/sh
# Self-test of the PyTorch reference trainer (train_ref.py) on tiny models:
# 5 steps of a tiny GPT-2 and a tiny GQA LLaMA through the real CLI, then
# check_ref.py re-derives every output (gradients by finite differences and
# float64 autograd, the whole training loop by hand) and checks the forward
# passes against independent loop formulations. Takes ~15 s on 2 cores.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" PYTHONDONTWRITEBYTECODE=1
BLAS=/usr/lib/x86_64-linux-gnu/openblas-openmp
[ -d "$BLAS" ] && export LD_LIBRARY_PATH="$BLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cat > "$TMP/gpt2.json" <<'JSON'
{"model_type": "gpt2", "vocab_size": 64, "n_embd": 32, "n_layer": 2, "n_head": 4,
 "n_positions": 32, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"}
JSON
cat > "$TMP/llama.json" <<'JSON'
{"model_type": "llama", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 88,
 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
 "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": false}
JSON
# 48 tokens: the 16-token windows wrap around (mod 48-16-1) and repeat, so
# 5 steps are enough for the loss to fall.
"$PY" "$HERE/make_tokens.py" --out "$TMP/tokens.bin" --count 48 --vocab 64 --seed 1

run() {  # run NAME MODEL ARGS...: train through the CLI, then re-check its outputs
  name=$1 model=$2
  shift 2
  set -- --config "$TMP/$model.json" --init "$TMP/$model.init.safetensors" \
    --data "$TMP/tokens.bin" --micro-batch 2 --seq 16 "$@" \
    --out-losses "$TMP/$name.losses.json" --out-grads "$TMP/$name.grads.safetensors" \
    --out-final "$TMP/$name.final.safetensors"
  echo "== $name"
  "$PY" "$HERE/train_ref.py" "$@"
  "$PY" "$HERE/check_ref.py" replay "$@"
}

for model in gpt2 llama; do
  "$PY" "$HERE/make_init.py" --config "$TMP/$model.json" \
    --out "$TMP/$model.init.safetensors" --seed 0
  run "$model" "$model" --steps 5 --lr 1e-2 --min-lr 1e-3 --warmup-steps 2 --schedule cosine \
    --weight-decay 0.1 --beta1 0.9 --beta2 0.95 --eps 1e-8 --clip-grad-norm 1.0
  "$PY" "$HERE/check_ref.py" learning "$TMP/$model.losses.json" --vocab 64
done
run gpt2-constant gpt2 --steps 3 --lr 3e-3 --min-lr 0 --warmup-steps 0 --schedule constant \
  --weight-decay 0 --beta1 0.8 --beta2 0.99 --eps 1e-6 --clip-grad-norm 0

echo "== forward and gradient checks against independent formulations"
"$PY" "$HERE/check_ref.py" forward
echo "selftest: all checks passed"
