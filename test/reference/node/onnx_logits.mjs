// Runs an ONNX language model with onnxruntime (CPU, one thread) over token
// sequences and writes every position's logits, as the reference for models
// llmc imports from ONNX.
//
//   node onnx_logits.mjs MODEL.onnx SEQUENCES.json OUT.f32
//
// SEQUENCES.json: [[id, ...] or {"ids": [id, ...], "prefill": n}, ...].
// A graph without a cache runs each sequence alone as a [1, len] `input_ids`.
// A cached export (Optimum's inputs: input_ids, attention_mask, position_ids,
// past_key_values.N.key/value; outputs logits, present.N.key/value) runs the
// first `prefill` ids (all of a plain list) with a past of length 0, then
// the rest one token a step, the graph's own presents fed back as its past:
// how a client of the export generates.
// OUT.f32: float32, the sequences' [len, vocab] logits one after another.
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';

const [model, sequencesPath, outPath] = process.argv.slice(2);
const sequences = JSON.parse(fs.readFileSync(sequencesPath, 'utf8'));
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
});
const pastNames = session.inputNames.filter(n => n.startsWith('past_key_values.'));
const pastShape = name => {
  const meta = session.inputMetadata.find(m => m.name === name);
  if (!meta || typeof meta.shape[1] !== 'number' ||
      typeof meta.shape[3] !== 'number')
    throw new Error(`${name}: no fixed [*, heads, *, head_dim] in the graph`);
  return [1, meta.shape[1], 0, meta.shape[3]];
};
const int64 = (values, dims) =>
  new ort.Tensor('int64', BigInt64Array.from(values, BigInt), dims);

const out = fs.openSync(outPath, 'w');
const write = logits => fs.writeSync(
    out, Buffer.from(logits.data.buffer, logits.data.byteOffset,
                     logits.data.byteLength));
for (const sequence of sequences) {
  const ids = Array.isArray(sequence) ? sequence : sequence.ids;
  if (!pastNames.length) {
    const result = await session.run({[session.inputNames[0]]: int64(ids, [1, ids.length])});
    write(result[session.outputNames[0]]);
    continue;
  }
  const prefill = Array.isArray(sequence) ? ids.length : sequence.prefill;
  let past = Object.fromEntries(pastNames.map(n => [n, new ort.Tensor(
      'float32', new Float32Array(0), pastShape(n))]));
  for (let start = 0; start < ids.length;) {
    const chunk = ids.slice(start, start === 0 ? prefill : start + 1);
    const total = start + chunk.length;
    const feeds = {
      input_ids: int64(chunk, [1, chunk.length]),
      attention_mask: int64(Array(total).fill(1), [1, total]),
      position_ids: int64(chunk.map((_, i) => start + i), [1, chunk.length]),
      ...past,
    };
    const result = await session.run(feeds);
    write(result.logits);
    past = Object.fromEntries(pastNames.map(
        n => [n, result[n.replace('past_key_values.', 'present.')]]));
    start = total;
  }
}
fs.closeSync(out);
