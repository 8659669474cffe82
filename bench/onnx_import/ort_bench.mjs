// onnxruntime's side of bench/onnx_import: session creation (load and graph
// optimisation) and the latency of one forward over a [1, T] prompt.
//
//   node ort_bench.mjs MODEL.onnx T RUNS   ->  {"load_ms": ..., "forward_ms": median}
import fs from 'node:fs';
import {createRequire} from 'node:module';

// onnxruntime-node is installed for the tests, under test/reference/node.
const require = createRequire(
    new URL('../../test/reference/node/package.json', import.meta.url));
const ort = require('onnxruntime-node');

const [model, T, runs] = [process.argv[2], +process.argv[3], +process.argv[4]];
const threads = +(process.env.OMP_NUM_THREADS || 2);
let start = performance.now();
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
});
const loadMs = performance.now() - start;
const ids = BigInt64Array.from({length: T}, (_, i) => BigInt((i * 7919) % 8000));
const feeds = {[session.inputNames[0]]: new ort.Tensor('int64', ids, [1, T])};
await session.run(feeds); // warm-up
const times = [];
for (let r = 0; r < runs; ++r) {
  start = performance.now();
  await session.run(feeds);
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({load_ms: loadMs,
                            forward_ms: times[Math.floor(times.length / 2)]}));
