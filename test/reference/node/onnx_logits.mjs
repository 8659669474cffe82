// Runs an ONNX language model with onnxruntime (CPU, one thread) over token
// sequences and writes every position's logits, as the reference for models
// llmc imports from ONNX.
//
//   node onnx_logits.mjs MODEL.onnx SEQUENCES.json OUT.f32
//
// SEQUENCES.json: [[id, ...], ...]; each runs alone as a [1, n] `input_ids`.
// OUT.f32: float32, the sequences' [n, vocab] logits one after another.
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';

const [model, sequencesPath, outPath] = process.argv.slice(2);
const sequences = JSON.parse(fs.readFileSync(sequencesPath, 'utf8'));
const session = await ort.InferenceSession.create(model, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
});
const out = fs.openSync(outPath, 'w');
for (const ids of sequences) {
  const input = new ort.Tensor('int64', BigInt64Array.from(ids, BigInt),
                               [1, ids.length]);
  const result = await session.run({[session.inputNames[0]]: input});
  const logits = result[session.outputNames[0]];
  fs.writeSync(out, Buffer.from(logits.data.buffer, logits.data.byteOffset,
                                logits.data.byteLength));
}
fs.closeSync(out);
