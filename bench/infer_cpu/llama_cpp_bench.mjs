// The llama.cpp peer of bench/infer_cpu (npm node-llama-cpp, its prebuilt
// CPU library), on the GGUF F32 file write_gguf.py writes, with an F32 KV
// cache and flash attention off (as llmc computes), timed as llama-bench
// reports:
//   pp: one evaluation of a PROMPT-token prompt (tokens/s);
//   tg: DECODE greedy tokens after TG_JSONL's prompt (llmc's tg prompt),
//       one at a time (tokens/s).
// Each the median of RUNS runs, with THREADS threads. Prints one JSON object
// with the greedy ids of the first tg run.
//
// usage: node llama_cpp_bench.mjs MODEL.gguf PROMPT DECODE RUNS THREADS TG_JSONL
import fs from 'fs';
import {createRequire} from 'module';
import path from 'path';
import {fileURLToPath} from 'url';

const here = path.dirname(fileURLToPath(import.meta.url));
const {getLlama} = await import(createRequire(path.join(here, 'node/package.json'))
    .resolve('node-llama-cpp'));

const [file, prompt, decode, runs, threads] =
    process.argv.slice(2, 7).map((a, i) => (i === 0 ? a : parseInt(a)));
const tgPrompt = JSON.parse(fs.readFileSync(process.argv[7], 'utf-8')).prompt_ids;

const llama = await getLlama({gpu: false, build: 'never', logLevel: 'error'});
const model = await llama.loadModel({modelPath: file, gpuLayers: 0});
const context = await model.createContext({
  contextSize: 512, batchSize: prompt, threads, flashAttention: false,
  experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32'});
const sequence = context.getSequence();

const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let seed = 7;
const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % 8000 + 3;

const pp = [], tg = [];
let ids = null;
for (let r = 0; r < runs; ++r) {
  await sequence.clearHistory();
  const tokens = Array.from({length: prompt}, next);
  let start = performance.now();
  await sequence.evaluateWithoutGeneratingNewTokens(tokens);
  pp.push(prompt / ((performance.now() - start) / 1000));

  await sequence.clearHistory();
  const generated = [];
  let first = 0;
  // The generator yields each greedy token; the first comes from the
  // prompt's evaluation, then each from one decode step.
  for await (const token of sequence.evaluate(tgPrompt, {temperature: 0})) {
    if (generated.length === 0)
      first = performance.now();
    generated.push(token);
    if (generated.length === decode + 1)
      break;
  }
  tg.push(decode / ((performance.now() - first) / 1000));
  if (ids === null) ids = generated.slice(0, decode);
}
console.log(JSON.stringify({pp: median(pp), tg: median(tg), ids}));
await context.dispose();
await model.dispose();
await llama.dispose();
