// The onnxruntime peer of bench/infer_cpu (npm onnxruntime-node, CPU, as
// test/reference/node installs it), timed as llama-bench reports:
//   pp: one run of prefill.onnx on a PROMPT-token prompt (tokens/s);
//   tg: DECODE steps of decode.onnx at batch 1 after TG_JSONL's prompt
//       (llmc's tg prompt) fed one token at a time (tokens/s), greedy, the
//       cache fed back.
// Each the median of RUNS runs, with THREADS intra-op threads. Prints one
// JSON object, with the greedy ids of the first tg run.
//
// usage: node ort_bench.mjs DIR PROMPT DECODE RUNS THREADS LAYERS HKV HEAD_DIM
//          TG_JSONL
import fs from 'fs';
import {createRequire} from 'module';
import path from 'path';
import {fileURLToPath} from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(
    path.join(here, '../../test/reference/node/package.json'));
const ort = require('onnxruntime-node');

const [dir, prompt, decode, runs, threads, layers, hkv, headDim] =
    process.argv.slice(2, 10).map((a, i) => (i === 0 ? a : parseInt(a)));
const tgPrompt = JSON.parse(fs.readFileSync(process.argv[10], 'utf-8')).prompt_ids;
const options = {intraOpNumThreads: threads, interOpNumThreads: 1,
                 executionMode: 'sequential', graphOptimizationLevel: 'all'};
const prefill = await ort.InferenceSession.create(
    path.join(dir, 'prefill.onnx'), options);
const step = await ort.InferenceSession.create(
    path.join(dir, 'decode.onnx'), options);

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const argmax = data => {
  let best = 0;
  for (let i = 1; i < data.length; ++i)
    if (data[i] > data[best]) best = i;
  return best;
};
// Deterministic prompt ids below 8000 (every vocabulary here is larger).
let seed = 7;
const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 8000;

const pp = [], tg = [];
let ids = null;
for (let r = 0; r < runs; ++r) {
  const tokens = BigInt64Array.from({length: prompt}, () => BigInt(next()));
  let start = performance.now();
  await prefill.run({input_ids: new ort.Tensor('int64', tokens, [1, prompt])});
  pp.push(prompt / ((performance.now() - start) / 1000));

  let cache = {};
  for (let i = 0; i < layers; ++i)
    for (const kind of ['key', 'value'])
      cache[`past_${kind}_${i}`] = new ort.Tensor(
          'float32', new Float32Array(0), [1, hkv, 0, headDim]);
  let position = 0, logits = null, token = 0;
  const run = async t => {
    const out = await step.run({
      input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(t)), [1, 1]),
      position_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(position)), [1]),
      ...cache});
    ++position;
    cache = {};
    for (let i = 0; i < layers; ++i)
      for (const kind of ['key', 'value'])
        cache[`past_${kind}_${i}`] = out[`present_${kind}_${i}`];
    return out.logits.data;
  };
  for (const t of tgPrompt)
    logits = await run(t);
  const generated = [];
  start = performance.now();
  for (let i = 0; i < decode; ++i) {
    token = argmax(logits);
    generated.push(token);
    logits = await run(token);
  }
  tg.push(decode / ((performance.now() - start) / 1000));
  if (ids === null) ids = generated;
}
console.log(JSON.stringify({pp: median(pp), tg: median(tg), ids}));
